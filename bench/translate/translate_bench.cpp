// What code costs the first times it is met, before it runs as fast as it will: decoding a
// block into the code cache (BM_BuildBlock, for every block) and emitting its host code
// (BM_EmitBlock, jit::Emitter, most of what Translator::translate spends, for hot blocks), over
// the blocks of real code. A boot builds some 45,000 blocks and translates 19,000, and a
// restored guest builds 2,000 and translates a few dozen while its reply waits: time the guest
// waits for, not time it runs.
//
// The blocks come from a riscv64 binary (by default the reference guest's kernel Image): its
// first --bytes are copied into RAM and every page is cut into blocks from its start, the way
// the run loop cuts code it meets (Hart::build_block: to a block-ending instruction, a branch
// limit or the page's end). Bytes that are data decode as something too; the translator must
// take them as it would take a guest's.
//
//   build/bench/translate/translate_bench [--image PATH] [--bytes N] [Google Benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/mapped_memory.hpp"
#include "bus/bus.hpp"
#include "cpu/riscv/code_cache.hpp"
#include "cpu/riscv/hart.hpp"
#include "cpu/riscv/jit/emitter.hpp"
#include "devices/irq.hpp"
#include "hart_test_access.hpp"

namespace vessel::rv {
namespace {

constexpr uint64_t kRamBase = 0x80000000;
constexpr uint64_t kPage = 4096;

std::string g_image = VESSEL_BENCH_DEFAULT_IMAGE;
uint64_t g_bytes = 4ULL << 20;

// A hart on a bus with RAM, wired as the virt board wires one, holding the image's bytes.
struct Machine {
  MappedMemory ram;
  Bus bus;
  HartIrq irq;
  MachineClock clock;
  CodeCache code;
  Hart hart{0, bus, irq, clock, code};
};

// A machine of its own holding `bytes`, or an error.
Result<std::unique_ptr<Machine>> make_machine(const std::vector<uint8_t>& bytes) {
  auto m = std::make_unique<Machine>();
  m->ram = TRY(MappedMemory::allocate(bytes.size()));
  std::memcpy(m->ram.data(), bytes.data(), bytes.size());
  TRY_VOID(m->bus.add_memory({kRamBase, bytes.size(), m->ram.data(), true, "ram"}));
  m->hart.reset(kRamBase);
  return m;
}

struct Blocks {
  std::vector<uint8_t> bytes;
  Machine* m = nullptr;
  std::vector<Block*> blocks;  // in m's code cache
  std::string error;
};

// Reads the image and cuts every page of its first g_bytes into blocks, once for all runs.
Blocks& blocks() {
  static Blocks all = [] {
    Blocks out;
    std::ifstream in(g_image, std::ios::binary);
    if (!in) {
      out.error = g_image + ": cannot open (build the reference guest, or give --image)";
      return out;
    }
    out.bytes.assign(std::istreambuf_iterator<char>(in), {});
    out.bytes.resize(std::min<uint64_t>(out.bytes.size(), g_bytes) & ~(kPage - 1));
    if (out.bytes.empty()) {
      out.error = g_image + ": less than a page";
      return out;
    }
    Result<std::unique_ptr<Machine>> m = make_machine(out.bytes);
    if (!m.ok()) {
      out.error = m.error().message;
      return out;
    }
    out.m = m->release();  // lives as long as the benchmarks: blocks point into its cache
    for (uint64_t page = 0; page < out.bytes.size(); page += kPage) {
      for (uint64_t at = 0; at < kPage;) {
        Block* b = HartTestAccess::build_block(out.m->hart, kRamBase + page + at,
                                               out.m->ram.data() + page + at);
        if (b == nullptr) break;
        out.blocks.push_back(b);
        for (const DecodedInsn* d = b->begin(); d != b->end(); ++d) at += d->len;
      }
    }
    return out;
  }();
  return all;
}

// What a block costs before it runs the first time: decoding it into the code cache
// (Hart::build_block: the decoder, the block's memory and the cache's index). An iteration
// builds every block once into an empty cache, as a boot fills one; a machine of its own,
// whose cache is emptied between iterations (untimed).
void BM_BuildBlock(benchmark::State& state) {
  Blocks& b = blocks();
  Result<std::unique_ptr<Machine>> made = make_machine(b.bytes);
  if (!made.ok()) {
    state.SkipWithError(made.error().message.c_str());
    return;
  }
  Machine& m = **made;  // freed, with its blocks, when this run ends
  const auto base = reinterpret_cast<uint64_t>(b.m->ram.data());
  for (auto _ : state) {
    for (const Block* block : b.blocks) {
      const uint64_t offset = block->host - base;
      benchmark::DoNotOptimize(
          HartTestAccess::build_block(m.hart, kRamBase + offset, m.ram.data() + offset));
    }
    state.PauseTiming();
    m.code.drop_all();
    m.code.collect_garbage();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(b.blocks.size()));
}
BENCHMARK(BM_BuildBlock);

void BM_EmitBlock(benchmark::State& state) {
  Blocks& b = blocks();  // main() made sure they are there
  std::vector<uint8_t> buffer(256 << 10);
  JitStats stats;
  jit::Emitter e(buffer.data(), buffer.size(), stats);
  size_t next = 0;
  uint64_t code_bytes = 0;
  uint64_t insns = 0;
  for (auto _ : state) {
    Block* block = b.blocks[next];
    next = next + 1 == b.blocks.size() ? 0 : next + 1;
    e.start();
    e.block(b.m->hart, block->begin(), block->end(), block->host & (kPage - 1), block->host);
    code_bytes += e.getSize();
    insns += block->count;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["guest_insns_per_block"] =
      benchmark::Counter(static_cast<double>(insns) / static_cast<double>(state.iterations()));
  state.counters["host_bytes_per_block"] =
      benchmark::Counter(static_cast<double>(code_bytes) / static_cast<double>(state.iterations()));
  state.counters["blocks"] = benchmark::Counter(static_cast<double>(b.blocks.size()));
}
BENCHMARK(BM_EmitBlock);

// --image PATH and --bytes N, taken out before Google Benchmark reads the rest.
bool parse_args(int& argc, char** argv) {
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--image" || arg == "--bytes") && i + 1 < argc) {
      const std::string value = argv[++i];
      if (arg == "--image") {
        g_image = value;
      } else {
        char* end = nullptr;
        g_bytes = std::strtoull(value.c_str(), &end, 0);
        if (end == value.c_str() || *end != '\0' || g_bytes < kPage) {
          std::fprintf(stderr, "translate_bench: --bytes %s: not a number of bytes >= 4096\n",
                       value.c_str());
          return false;
        }
      }
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  return true;
}

}  // namespace
}  // namespace vessel::rv

int main(int argc, char** argv) {
  if (!vessel::rv::parse_args(argc, argv)) return 2;
  if (const std::string& error = vessel::rv::blocks().error; !error.empty()) {
    std::fprintf(stderr, "translate_bench: %s\n", error.c_str());
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
