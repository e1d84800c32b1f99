#define LLVMFuzzerTestOneInput vessel_fuzz_vsock
#include "vsock_fuzz.cpp"
