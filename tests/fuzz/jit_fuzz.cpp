// libFuzzer target: the hart's engines in lockstep (tests/cpu/lockstep.hpp) on fuzzer-chosen
// code. The interpreter is the reference; the translator must agree with it after every block.
//
// Input: byte 0 holds flags. With bit 0 clear, the rest is raw code run alone in M-mode
// between the torture generator's trap handlers (layout::kCode on; byte 0 also seeds the
// prologue's random register values). With bit 0 set, bytes 1..8 seed a generated program
// (tests/cpu/torture) of 1 + (byte 0 >> 1) % 16 random chunks, with its page tables and mode
// changes, and the raw code runs after them in whatever mode they left. Either way the
// program ends at the generator's end sequence after the raw bytes, or at the block limit.
// A divergence aborts with its report (the block's disassembly and every differing field).
// The generator's mode checkpoints are not checked: the raw code may jump back into them.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "base/bits.hpp"
#include "torture/generator.hpp"
#include "torture/run.hpp"

// Blocks per input: past this a program that loops is cut off (not an error). The corpus smoke
// run (smoke_jit.cpp) uses fewer: it runs each file hundreds of times, under ASan too.
#ifndef VESSEL_JIT_FUZZ_MAX_TURNS
#define VESSEL_JIT_FUZZ_MAX_TURNS 1000
#endif

namespace {
constexpr uint64_t kMaxTurns = VESSEL_JIT_FUZZ_MAX_TURNS;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace torture = vessel::rv::torture;
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  torture::Options o;
  std::span<const uint8_t> rest(data + 1, size - 1);
  if (flags & 1) {
    uint8_t seed[8] = {};
    const size_t n = rest.size() < 8 ? rest.size() : 8;
    std::copy_n(rest.begin(), n, seed);
    rest = rest.subspan(n);
    o.seed = vessel::load_le<uint64_t>(seed);
    o.chunks = 1 + (flags >> 1) % 16;
  } else {
    o.seed = flags;
    o.raw_only = true;
  }
  o.raw = rest;
  torture::RunOptions run;
  run.max_turns = kMaxTurns;
  const torture::Outcome out = torture::run_lockstep(torture::generate(o), run);
  if (!out.error.empty()) {
    std::fprintf(stderr, "jit_fuzz: %s\n", out.error.c_str());
    std::abort();  // the generator failed: a bug of its own
  }
  if (out.result.divergence) {
    std::fprintf(stderr, "jit_fuzz: %s", out.result.divergence->report().c_str());
    std::abort();
  }
  return 0;
}
