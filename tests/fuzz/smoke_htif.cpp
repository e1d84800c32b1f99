#define LLVMFuzzerTestOneInput vessel_fuzz_htif
#include "htif_fuzz.cpp"
