// Running a generated program in lockstep: what the tests, the seed runner and the fuzz
// target share.
#pragma once

#include <cstdint>
#include <string>

#include "cpu/riscv/engine.hpp"
#include "lockstep.hpp"
#include "torture/coverage.hpp"
#include "torture/generator.hpp"

namespace vessel::rv::torture {

struct Outcome {
  std::string error;     // the program could not be generated or loaded
  std::string tracking;  // the first checkpoint reached in another mode (a generator bug)
  lockstep::Lockstep::Result result;
};

// Loads `program` into a fresh pair of machines (the reference interpreter and `test_engine`)
// and runs them in lockstep until the program ends in its final loop, they diverge, or
// `max_turns` blocks have run.
// With `trace`, every block the reference runs is printed to stdout as it runs.
Outcome run_lockstep(const Program& program, uint64_t max_turns, Engine test_engine = Engine::kJit,
                     Coverage* coverage = nullptr, bool trace = false);

// The same program run free (Lockstep::run_free: Hart::run on each machine, blocks chained)
// to its end, then compared once.
Outcome run_free(const Program& program, Engine test_engine = Engine::kJit);

}  // namespace vessel::rv::torture
