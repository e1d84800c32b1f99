#define LLVMFuzzerTestOneInput vessel_fuzz_migration
#include "migration_fuzz.cpp"
