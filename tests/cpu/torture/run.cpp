#include "torture/run.hpp"

#include <cstdio>
#include <string>

#include "torture/layout.hpp"

namespace vessel::rv::torture {

Outcome run_lockstep(const Program& program, uint64_t max_turns, Engine test_engine,
                     Coverage* coverage, bool trace) {
  Outcome out;
  if (!program.error.empty()) {
    out.error = "generator: " + program.error;
    return out;
  }
  lockstep::MachineConfig config;
  config.ram_base = layout::kRamBase;
  config.ram_size = layout::kRamSize;
  lockstep::Lockstep ls(config, test_engine);
  if (!ls.load(layout::kRamBase, program.image)) {
    out.error = "the image does not fit in RAM";
    return out;
  }
  ls.start(program.entry);
  ls.set_observer([coverage, trace](const lockstep::BlockTrace& b) {
    if (coverage != nullptr) coverage->add(b);
    if (trace) {
      std::printf("turn %llu: pc %#llx priv %u retired %llu%s\n%s",
                  static_cast<unsigned long long>(b.turn), static_cast<unsigned long long>(b.pc),
                  static_cast<unsigned>(b.priv), static_cast<unsigned long long>(b.retired),
                  b.trapped ? (" cause " + std::to_string(b.cause)).c_str() : "",
                  b.disassembly().c_str());
    }
  });
  const uint64_t end = program.end_pc;
  out.result =
      ls.run(max_turns, [end](const Hart& h) { return h.pc == end && h.priv == Priv::kM; });
  return out;
}

}  // namespace vessel::rv::torture
