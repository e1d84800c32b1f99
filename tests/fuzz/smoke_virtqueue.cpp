#define LLVMFuzzerTestOneInput vessel_fuzz_virtqueue
#include "virtqueue_fuzz.cpp"
