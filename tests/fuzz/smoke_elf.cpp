#define LLVMFuzzerTestOneInput vessel_fuzz_elf
#include "elf_fuzz.cpp"
