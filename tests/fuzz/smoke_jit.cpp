#define LLVMFuzzerTestOneInput vessel_fuzz_jit
#define VESSEL_JIT_FUZZ_MAX_TURNS 200
#include "jit_fuzz.cpp"
