#define LLVMFuzzerTestOneInput vessel_fuzz_virtio_blk
#include "virtio_blk_fuzz.cpp"
