// The translator: compiles a decoded block (code_cache.hpp) to x86-64 host code in the hart's
// arena, and runs it. Guest state stays in HartState, addressed through rbx; see docs/jit.md.
#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <vector>

#include "base/prefaulted.hpp"
#include "base/result.hpp"
#include "cpu/riscv/decoded.hpp"
#include "cpu/riscv/engine.hpp"
#include "cpu/riscv/jit/arena.hpp"

namespace vessel::rv {
class Hart;
struct Block;
struct HartState;
}  // namespace vessel::rv

namespace vessel::rv::jit {

class Emitter;

// What translated code returns to the run loop. Any other value is the address of a
// ChainInfo: a direct jump to a block in the same page, which the run loop may patch.
enum Exit : uintptr_t {
  kExitJump = 1,   // pc is a jump target the inline jump cache did not know
  kExitBreak = 2,  // an instruction asked the loop to look at interrupts (CSR, xRET, wfi, ...)
  kExitTrap = 3,   // a trap was entered
  kExitPoll = 4,   // instret reached the poll limit, or another thread kicked the hart
};
inline constexpr uintptr_t kFirstChainExit = 4096;

// Stored in the arena right after each patchable jump's exit stub.
struct ChainInfo {
  uint64_t site_back;    // the jump instruction is this many bytes before the ChainInfo
  uint64_t target_host;  // host address of the target's guest bytes (its block's key)
};

// An instruction across a page end, decoded when the block that falls into it was translated
// (Translator::straddler_of), and the upper half as it was then.
struct Straddler {
  DecodedInsn insn;
  uint16_t high = 0;
};

class Translator {
 public:
  // The most host code one block can need: 64 instructions of at most ~200 bytes each, plus
  // their cold paths. A block that still does not fit makes the arena refill.
  static constexpr uint64_t kScratchBytes = 64 * 1024;

  static Result<std::unique_ptr<Translator>> create(uint64_t arena_bytes, JitStats& stats);

  // Translates `b` (entered at `pc`), setting b.native. False when the arena is full: the
  // caller refills it, forgets every earlier translation, and asks again (an empty arena
  // always has room for a block).
  bool translate(Hart& h, Block& b, uint64_t pc);
  void refill();
  // Runs translated code from `code` until it returns to the loop.
  uintptr_t enter(HartState& s, const void* code) const { return enter_(&s, code); }
  // Makes the jump that exited with `exit` go straight to `target` from now on.
  void chain(uintptr_t exit, const void* target);
  uint64_t epoch() const { return arena_.epoch(); }
  // Points the state's stub addresses (HartState::jit) at this arena's stubs.
  void install(HartState& s) const;
  const Arena& arena() const { return arena_; }

 private:
  Translator(Arena arena, JitStats& stats);

 public:
  ~Translator();
  Translator(const Translator&) = delete;
  Translator& operator=(const Translator&) = delete;

 private:
  void emit_stubs();
  bool emit_block(Hart& h, Block& b, uint64_t pc);
  // The instruction across the page end that `b` (entered at `pc`) falls into, decoded from
  // the bytes the next page holds now, for the block to run inline behind a check that they
  // are still those; nullptr when that page is not in the fetch TLB, or for a jump or branch.
  const Straddler* straddler_of(Hart& h, const Block& b, uint64_t pc);

  Arena arena_;
  JitStats& stats_;
  uintptr_t (*enter_)(HartState*, const void*) = nullptr;
  uint64_t stubs_bytes_ = 0;
  const void* stubs_[5] = {};
  std::FILE* perf_map_ = nullptr;   // VESSEL_PERF_MAP=1: /tmp/perf-PID.map
  const char* dump_dir_ = nullptr;  // VESSEL_JIT_DUMP=DIR
  void dump(uint64_t pc, uint32_t count, size_t size) const;
  PrefaultedBuffer scratch_{kScratchBytes};  // where blocks are emitted before the arena
  std::unique_ptr<Emitter> emitter_;
  // The straddlers translated blocks run inline: their code points at them (helper calls), so
  // they stay until the arena is refilled.
  std::deque<Straddler> straddlers_;
};

}  // namespace vessel::rv::jit
