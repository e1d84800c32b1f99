#include "torture/run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_map>

#include "torture/layout.hpp"

namespace vessel::rv::torture {

namespace {

// RAM as large as the program's image (V=1 programs have the G stage's root past the rest).
lockstep::MachineConfig config(const Program& program) {
  lockstep::MachineConfig c;
  c.ram_base = layout::kRamBase;
  c.ram_size = std::max<uint64_t>(layout::kRamSize, program.image.size());
  return c;
}

// Loads the program into both machines; false with out.error set when it cannot.
bool prepare(lockstep::Lockstep& ls, const Program& program, Outcome& out) {
  if (!program.error.empty()) {
    out.error = "generator: " + program.error;
    return false;
  }
  if (!ls.load(layout::kRamBase, program.image)) {
    out.error = "the image does not fit in RAM";
    return false;
  }
  ls.start(program.entry);
  return true;
}

// Checks the blocks the reference runs against the program's checkpoints.
class Tracker {
 public:
  explicit Tracker(const std::vector<Checkpoint>& checkpoints) {
    for (const Checkpoint& c : checkpoints) at_[c.pa] = c;
  }
  void check(const lockstep::BlockTrace& b, std::string& error) const {
    if (!error.empty()) return;
    uint64_t va = b.pc;
    const uint64_t mode = b.satp >> 60;
    const unsigned satp = mode == 8 ? 39 : (mode == 9 ? 48 : 0);
    for (const DecodedInsn& d : b.executed()) {
      const auto it = at_.find(va & ~layout::kAlias);
      const Checkpoint* c = it == at_.end() ? nullptr : &it->second;
      const bool alias = (va & layout::kAlias) != 0;
      if (c != nullptr && (c->priv != b.priv || (c->priv != Priv::kM && c->satp != satp) ||
                           alias != (c->priv == Priv::kU && c->satp != 0))) {
        error = fmt::format(
            "the chunk at {:#x} runs at {:#x} in priv {} with satp mode {}; the generator "
            "expected priv {} with satp mode {}",
            c->pa, va, static_cast<int>(b.priv), satp, static_cast<int>(c->priv), c->satp);
        return;
      }
      va += d.len;
    }
  }

 private:
  std::unordered_map<uint64_t, Checkpoint> at_;
};

}  // namespace

Outcome run_lockstep(const Program& program, const RunOptions& options) {
  Outcome out;
  lockstep::Lockstep ls(config(program), options.test_engine);
  if (!prepare(ls, program, out)) return out;
  ls.set_realign(options.realign);
  const Tracker tracker(program.checkpoints);
  ls.set_observer([&](const lockstep::BlockTrace& b) {
    tracker.check(b, out.tracking);
    if (options.coverage != nullptr) options.coverage->add(b);
    if (options.trace) {
      std::printf("turn %llu: pc %#llx priv %u retired %llu%s\n%s",
                  static_cast<unsigned long long>(b.turn), static_cast<unsigned long long>(b.pc),
                  static_cast<unsigned>(b.priv), static_cast<unsigned long long>(b.retired),
                  b.trapped ? (" cause " + std::to_string(b.cause)).c_str() : "",
                  b.disassembly().c_str());
    }
  });
  const uint64_t end = program.end_pc;
  out.result =
      ls.run(options.max_turns, [end](const Hart& h) { return h.pc == end && h.priv == Priv::kM; });
  return out;
}

Outcome run_free(const Program& program, Engine test_engine, unsigned jit_threshold) {
  Outcome out;
  lockstep::MachineConfig c = config(program);
  c.jit_threshold = jit_threshold;
  lockstep::Lockstep ls(c, test_engine);
  if (!prepare(ls, program, out)) return out;
  const uint64_t end = program.end_pc;
  // Polls come every few thousand instructions; the longest programs run some tens of them.
  constexpr uint64_t kMaxPolls = 1000;
  out.result.divergence =
      ls.run_free([end](const Hart& h) { return h.pc == end && h.priv == Priv::kM; }, kMaxPolls);
  out.result.finished = !out.result.divergence;
  return out;
}

}  // namespace vessel::rv::torture
