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

struct RunOptions {
  uint64_t max_turns = 200000;  // blocks, before the run counts as not finished
  Engine test_engine = Engine::kJit;
  Coverage* coverage = nullptr;  // tallies what the reference executed
  bool trace = false;            // print every block the reference runs to stdout
  bool realign = false;          // Lockstep::set_realign: for engines that end blocks elsewhere
};

// Loads `program` into a fresh pair of machines (the reference interpreter and the engine
// under test) and runs them in lockstep until the program ends in its final loop, they
// diverge, or the block limit.
Outcome run_lockstep(const Program& program, const RunOptions& options = {});

// The same program run free (Lockstep::run_free: Hart::run on each machine, blocks chained)
// to its end, then compared once.
// `jit_threshold` as lockstep::MachineConfig's.
Outcome run_free(const Program& program, Engine test_engine = Engine::kJit,
                 unsigned jit_threshold = 1);

}  // namespace vessel::rv::torture
