// torture_run: generated programs in lockstep, seed after seed, reporting any divergence; then
// each again with the machines running free (Hart::run), compared at the end.
//
//   torture_run --seed-from N [--count C] [--seconds S] [--max-turns T] [--engine jit|interp]
//   torture_run --seed N --dump FILE      write seed N's RAM image (for a disassembler)
//   --trace                               print every block the reference runs
//   --coverage                            print what the programs executed
//   --realign                             for an engine that ends blocks elsewhere (weaker)
//
// Exits 1 at the first divergence (with its report and the seed that reproduces it), 2 on bad
// arguments, 3 when a program did not reach its end (a generator bug), 0 otherwise.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "torture/run.hpp"

namespace {

using vessel::rv::Engine;
namespace torture = vessel::rv::torture;

struct Args {
  uint64_t seed = 1;
  uint64_t count = 1;
  double seconds = 0;  // 0: run `count` seeds
  uint64_t max_turns = 200000;
  Engine engine = Engine::kJit;
  std::string dump;
  bool trace = false;
  bool coverage = false;
  bool realign = false;
};

bool parse(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--trace" || arg == "--coverage" || arg == "--realign") {
      (arg == "--trace" ? a.trace : arg == "--coverage" ? a.coverage : a.realign) = true;
      continue;
    }
    if (i + 1 >= argc) return false;
    const char* v = argv[++i];
    if (arg == "--seed" || arg == "--seed-from") {
      a.seed = std::strtoull(v, nullptr, 0);
    } else if (arg == "--count") {
      a.count = std::strtoull(v, nullptr, 0);
    } else if (arg == "--seconds") {
      a.seconds = std::strtod(v, nullptr);
    } else if (arg == "--max-turns") {
      a.max_turns = std::strtoull(v, nullptr, 0);
    } else if (arg == "--engine") {
      const auto e = vessel::rv::parse_engine(v);
      if (!e) return false;
      a.engine = *e;
    } else if (arg == "--dump") {
      a.dump = v;
    } else {
      return false;
    }
  }
  return true;
}

int dump(const Args& a) {
  const torture::Program p = torture::generate(a.seed);
  if (!p.error.empty()) {
    std::fprintf(stderr, "seed %llu: %s\n", static_cast<unsigned long long>(a.seed),
                 p.error.c_str());
    return 3;
  }
  std::FILE* f = std::fopen(a.dump.c_str(), "wb");
  if (f == nullptr || std::fwrite(p.image.data(), 1, p.image.size(), f) != p.image.size()) {
    std::fprintf(stderr, "%s: cannot write\n", a.dump.c_str());
    return 2;
  }
  std::fclose(f);
  std::printf("seed %llu: entry %#llx, end %#llx\n", static_cast<unsigned long long>(a.seed),
              static_cast<unsigned long long>(p.entry), static_cast<unsigned long long>(p.end_pc));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, a)) {
    std::fprintf(stderr,
                 "usage: torture_run --seed-from N [--count C] [--seconds S] [--max-turns T] "
                 "[--engine jit|interp] [--trace] [--coverage] [--realign]\n       torture_run "
                 "--seed N --dump FILE\n");
    return 2;
  }
  if (!a.dump.empty()) return dump(a);
  const auto start = std::chrono::steady_clock::now();
  uint64_t runs = 0, turns = 0;
  torture::Coverage coverage;
  for (uint64_t seed = a.seed;; ++seed) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (a.seconds > 0 ? elapsed >= a.seconds : runs >= a.count) break;
    const torture::Outcome o =
        torture::run_lockstep(torture::generate(seed), {.max_turns = a.max_turns,
                                                        .test_engine = a.engine,
                                                        .coverage = &coverage,
                                                        .trace = a.trace,
                                                        .realign = a.realign});
    ++runs;
    turns += o.result.turns;
    const auto s = static_cast<unsigned long long>(seed);
    if (!o.error.empty() || !o.tracking.empty()) {
      std::fprintf(stderr, "seed %llu: %s\n", s, (o.error + o.tracking).c_str());
      return 3;
    }
    if (o.result.divergence) {
      std::printf("seed %llu: %s", s, o.result.divergence->report().c_str());
      std::printf("reproduce: torture_run --seed-from %llu --count 1\n", s);
      return 1;
    }
    if (!o.result.finished) {
      std::fprintf(stderr, "seed %llu: did not reach its end in %llu turns\n", s,
                   static_cast<unsigned long long>(a.max_turns));
      return 3;
    }
    // Then free (Hart::run: the translator chains blocks), compared at the end.
    const torture::Outcome f = torture::run_free(torture::generate(seed), a.engine);
    if (f.result.divergence) {
      std::printf("seed %llu, running free: %s", s, f.result.divergence->report().c_str());
      return 1;
    }
  }
  if (a.coverage) {
    std::printf("%s", coverage.summary().c_str());
    for (const std::string& name : coverage.missing())
      std::printf("never executed: %s\n", name.c_str());
  }
  std::printf("%llu seeds from %llu, %llu blocks, no divergence\n",
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(a.seed),
              static_cast<unsigned long long>(turns));
  return 0;
}
