#define LLVMFuzzerTestOneInput vessel_fuzz_mmds
#include "mmds_fuzz.cpp"
