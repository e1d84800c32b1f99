#define LLVMFuzzerTestOneInput vessel_fuzz_virtio_net
#include "virtio_net_fuzz.cpp"
