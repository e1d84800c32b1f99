// A build without the translator (VESSEL_JIT off: a host other than x86-64). Every hart runs
// the interpreter; engine.hpp's jit_supported() is false, so nothing asks for translated code.
#include "cpu/riscv/hart.hpp"
#include "cpu/riscv/jit/translator.hpp"

namespace vessel::rv {

Result<void> Hart::set_engine(Engine, uint64_t) {
  engine_ = Engine::kInterp;
  jit_stats_ = JitStats{};
  return {};
}

// Never reached: engine_ is always kInterp here, and Hart::run calls this only for kJit.
bool Hart::run_translated(bool& check_interrupts, uint64_t& next_poll) {
  Block* b = lookup_block();
  if (b == nullptr) return !trap_loop();
  return run_interpreted(b, check_interrupts, next_poll);
}

namespace jit {
// jit_ stays empty, but Hart's destructor names the translator's, which names the emitter's:
// with no x86-64 emitter in this build, an empty one stands for it.
class Emitter {};
Translator::~Translator() = default;
}  // namespace jit

}  // namespace vessel::rv
