#define LLVMFuzzerTestOneInput vessel_fuzz_snapshot
#include "snapshot_fuzz.cpp"
