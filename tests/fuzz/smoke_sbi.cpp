#define LLVMFuzzerTestOneInput vessel_fuzz_sbi
#include "sbi_fuzz.cpp"
