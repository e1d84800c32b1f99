#define LLVMFuzzerTestOneInput vessel_fuzz_firecracker_api
#include "firecracker_api_fuzz.cpp"
