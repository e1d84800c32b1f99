// Which engine runs a hart's guest code, and what the translator reports about its work.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vessel::rv {

// kInterp is the reference engine (decode once, one call per instruction); kJit translates
// blocks to host code (jit/, x86-64 hosts only) and falls back to kInterp elsewhere.
enum class Engine : uint8_t { kInterp, kJit };

inline constexpr const char* engine_name(Engine e) { return e == Engine::kJit ? "jit" : "interp"; }
inline std::optional<Engine> parse_engine(std::string_view name) {
  if (name == "jit") return Engine::kJit;
  if (name == "interp") return Engine::kInterp;
  return std::nullopt;
}
// Whether this build can translate (an x86-64 host).
inline constexpr bool jit_supported() {
#if defined(__x86_64__)
  return true;
#else
  return false;
#endif
}
inline constexpr Engine default_engine() {
  return jit_supported() ? Engine::kJit : Engine::kInterp;
}

// The code arena of each hart (--jit-cache). See docs/jit.md for the default: a Debian boot
// translates about 33 MiB of host code on its boot hart, so 64 MiB does not refill during a
// boot, and the arena is backed lazily, so an idle guest pays only for what it translated.
inline constexpr uint64_t kDefaultJitCacheBytes = 64ULL << 20;
inline constexpr uint64_t kMinJitCacheBytes = 1ULL << 20;
inline constexpr uint64_t kMaxJitCacheBytes = 2ULL << 30;
// A block is translated when it starts to run for this many times; until then the interpreter
// runs it. Most of a boot's code runs only a few times, and translating a block (some 15 us)
// costs as much as interpreting it some thousands of times. 16 rather than 4: boots take the
// same time with a quarter fewer blocks translated, and a restored guest's first reply, which
// runs on an empty code cache, comes some 20 ms sooner (docs/jit.md).
inline constexpr unsigned kDefaultJitThreshold = 16;
inline constexpr unsigned kMaxJitThreshold = 255;

// Calls from translated code back into C++, by what they are for.
enum class HelperKind : uint8_t {
  kMemory,   // a load or store that missed the inline soft-TLB probe (miss, MMIO, code page)
  kFloat,    // F/D semantics (exact soft-float)
  kAtomic,   // LR/SC and AMOs (host atomics)
  kCsr,      // Zicsr
  kSystem,   // ecall, ebreak, xRET, wfi, fence.i, sfence.vma, illegal instructions
  kInteger,  // integer ops without an emitter (none today; kept so the count can show it)
  kCount,
};
inline constexpr const char* kHelperKindNames[] = {"memory", "float",  "atomic",
                                                   "csr",    "system", "integer"};
static_assert(sizeof(kHelperKindNames) / sizeof(kHelperKindNames[0]) ==
              static_cast<unsigned>(HelperKind::kCount));

struct JitStats {
  uint64_t blocks_translated = 0;
  uint64_t code_bytes = 0;          // host code emitted since start (over all refills)
  uint64_t guest_instructions = 0;  // guest instructions translated (code_bytes per one)
  uint64_t translate_ns = 0;        // time spent translating
  uint64_t chained_exits = 0;       // block exits patched into direct jumps
  uint64_t unchained_exits = 0;     // block exits that went back to the dispatcher
  uint64_t cold_runs = 0;      // blocks the interpreter ran because they were not yet hot enough
  uint64_t cache_flushes = 0;  // the arena filled up and was refilled
  uint64_t cache_bytes = 0;    // the arena's size (--jit-cache)
  uint64_t cache_used = 0;     // bytes in use now
  uint64_t helper_calls[static_cast<unsigned>(HelperKind::kCount)] = {};
};

}  // namespace vessel::rv
