#define LLVMFuzzerTestOneInput vessel_fuzz_gdb
#include "gdb_fuzz.cpp"
