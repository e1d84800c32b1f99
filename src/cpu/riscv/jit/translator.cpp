#include "cpu/riscv/jit/translator.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "base/bits.hpp"
#include "cpu/riscv/code_cache.hpp"
#include "cpu/riscv/decoder.hpp"
#include "cpu/riscv/hart.hpp"
#include "cpu/riscv/jit/emitter.hpp"

namespace vessel::rv::jit {

namespace {
constexpr uint64_t kStubsBytes = 4096;

// The shared stubs, in the order HartState::JitStubs lists them after `enter`.
class StubEmitter : public Xbyak::CodeGenerator {
 public:
  StubEmitter(uint8_t* buffer, size_t size) : Xbyak::CodeGenerator(size, buffer) {}
  void emit(size_t offsets[6]);
};

void StubEmitter::emit(size_t offsets[6]) {
  using namespace Xbyak::util;
  // enter(state, code): save what the SysV ABI says a callee keeps, pin the state in rbx, and
  // keep rsp 16-byte aligned at every helper call the blocks make.
  offsets[0] = getSize();
  push(rbp);
  push(rbx);
  push(r12);
  push(r13);
  push(r14);
  push(r15);
  sub(rsp, 8);
  mov(rbx, rdi);
  // pc and instret live in r14 and r15 while translated code runs (see emitter.hpp).
  mov(r14, qword[rbx + off::kPc]);
  mov(r15, qword[rbx + off::kInstret]);
  mov(rbp, qword[rbx + off::kReadTlb]);  // the data TLB, in rbp too (emitter.hpp)
  jmp(rsi);

  Xbyak::Label exit, exit_trap;
  align(16);
  offsets[1] = getSize();
  L(exit);
  mov(qword[rbx + off::kPc], r14);
  mov(qword[rbx + off::kInstret], r15);
  add(rsp, 8);
  pop(r15);
  pop(r14);
  pop(r13);
  pop(r12);
  pop(rbx);
  pop(rbp);
  ret();

  align(16);
  offsets[2] = getSize();
  L(exit_trap);
  mov(eax, kExitTrap);
  jmp(exit);

  align(16);
  offsets[3] = getSize();
  mov(eax, kExitPoll);
  jmp(exit);

  // A helper's semantics returned kJump, kTrap or kBreak with pc already set in the state
  // (which is what counts now): the instruction retired unless it trapped.
  align(16);
  offsets[4] = getSize();
  Xbyak::Label not_jump;
  mov(r14, qword[rbx + off::kPc]);
  mov(r15, qword[rbx + off::kInstret]);
  cmp(al, static_cast<uint8_t>(ExecStatus::kTrap));
  je(exit_trap);
  inc(r15);
  cmp(al, static_cast<uint8_t>(ExecStatus::kJump));
  jne(not_jump);
  mov(rbp, qword[rbx + off::kReadTlb]);  // an xRET changes the mode, and with it the TLB
  jmp(qword[rbx + off::kStubLookup]);
  L(not_jump);
  mov(eax, kExitBreak);
  jmp(exit);

  // lookup: on to pc through the jump cache without leaving translated code. A hit needs the
  // same checks as Hart::lookup_block: tag (pc and privilege), the code cache's generation,
  // and the fetch TLB still mapping pc's page to the host page the block came from.
  align(16);
  offsets[5] = getSize();
  Xbyak::Label miss;
  mov(rax, r14);
  mov(rcx, rax);
  shr(rcx, 1);
  and_(ecx, HartState::kJumpCacheSize - 1);
  lea(rcx, ptr[rcx + rcx * 4]);
  lea(rcx, ptr[rbx + rcx * 8 + off::kJumpCache]);
  mov(rdx, qword[rbx + off::kJumpXor]);
  xor_(rdx, rax);
  cmp(rdx, qword[rcx]);
  jne(miss);
  mov(rdx, qword[rbx + off::kCodeGeneration]);
  mov(rdx, qword[rdx]);
  cmp(rdx, qword[rcx + 8]);
  jne(miss);
  mov(rdx, rax);
  shr(rdx, 12 - 4);
  and_(edx, (HartState::kTlbSize - 1) << 4);
  add(rdx, qword[rbx + off::kFetchTlb]);
  mov(rsi, rax);
  and_(rsi, -4096);
  cmp(rsi, qword[rdx]);
  jne(miss);
  add(rax, qword[rdx + 8]);
  cmp(rax, qword[rcx + 16]);
  jne(miss);
  mov(rax, qword[rcx + 32]);
  test(rax, rax);
  jz(miss);
  jmp(rax);
  L(miss);
  mov(eax, kExitJump);
  jmp(exit);
}
}  // namespace

Result<std::unique_ptr<Translator>> Translator::create(uint64_t arena_bytes, JitStats& stats) {
  std::unique_ptr<Translator> t(new Translator(TRY(Arena::create(arena_bytes)), stats));
  t->emit_stubs();
  t->emitter_ = std::make_unique<Emitter>(t->scratch_.data(), t->scratch_.size(), stats);
  // VESSEL_PERF_MAP=1 names each block by its guest pc for `perf report` (docs/jit.md).
  if (const char* env = std::getenv("VESSEL_PERF_MAP"); env != nullptr && env[0] == '1') {
    const std::string path = "/tmp/perf-" + std::to_string(getpid()) + ".map";
    t->perf_map_ = std::fopen(path.c_str(), "a");
  }
  // VESSEL_JIT_DUMP=DIR writes each block's host code to DIR/PC_COUNT.bin, for objdump.
  t->dump_dir_ = std::getenv("VESSEL_JIT_DUMP");
  return t;
}

Translator::Translator(Arena arena, JitStats& stats) : arena_(std::move(arena)), stats_(stats) {}

Translator::~Translator() {
  if (perf_map_ != nullptr) std::fclose(perf_map_);
}

void Translator::emit_stubs() {
  StubEmitter e(arena_.write_cursor(), kStubsBytes);
  size_t offsets[6] = {};
  e.emit(offsets);
  const uint8_t* base = arena_.exec_cursor();
  enter_ = reinterpret_cast<uintptr_t (*)(HartState*, const void*)>(
      reinterpret_cast<uintptr_t>(base + offsets[0]));
  stubs_[0] = base + offsets[1];
  stubs_[1] = base + offsets[2];
  stubs_[2] = base + offsets[3];
  stubs_[3] = base + offsets[4];
  stubs_[4] = base + offsets[5];
  arena_.commit(e.getSize());
  stubs_bytes_ = arena_.used();
}

void Translator::install(HartState& s) const {
  s.jit.exit = stubs_[0];
  s.jit.exit_trap = stubs_[1];
  s.jit.exit_poll = stubs_[2];
  s.jit.helper_exit = stubs_[3];
  s.jit.lookup = stubs_[4];
}

bool Translator::emit_block(Hart& h, Block& b, uint64_t pc) {
  try {
    emitter_->start();
    emitter_->block(h, b.begin(), b.end(), pc & 0xfff, b.host, b.straddles_on,
                    b.straddles_on ? straddler_of(h, b, pc) : nullptr);
  } catch (const Xbyak::Error&) {  // over kScratchBytes: translation time only, never in guest code
    return false;
  }
  const size_t size = emitter_->getSize();
  if (size > arena_.free_bytes()) return false;
  arena_.prepare(size);
  std::memcpy(arena_.write_cursor(), emitter_->getCode(), size);
  b.native = arena_.exec_cursor();
  if (perf_map_ != nullptr) {  // perf's JIT symbol map: "start size name" per line
    std::fprintf(perf_map_, "%lx %zx guest_%lx_%u\n", reinterpret_cast<uintptr_t>(b.native), size,
                 static_cast<unsigned long>(pc), b.count);
    std::fflush(perf_map_);
  }
  if (dump_dir_ != nullptr) dump(pc, b.count, size);
  arena_.commit(size);
  stats_.code_bytes += size;
  stats_.guest_instructions += b.count;
  return true;
}

const Straddler* Translator::straddler_of(Hart& h, const Block& b, uint64_t pc) {
  uint64_t at = pc;  // the straddler's address: the end of the block's last instruction
  for (const DecodedInsn* d = b.begin(); d != b.end(); ++d) at += d->len;
  const uint64_t next_page = at + 2;
  if ((at & 0xfff) != 0xffe) return nullptr;
  const TlbEntry& t = h.fetch_tlb[(next_page >> 12) % HartState::kTlbSize];
  if (t.vpage != next_page) return nullptr;
  const auto* low_bytes = reinterpret_cast<const uint8_t*>(b.host + (at - pc));
  const auto* high_bytes = reinterpret_cast<const uint8_t*>(next_page + t.addend);
  Straddler s;
  s.high = load_le<uint16_t>(high_bytes);
  const uint32_t raw = load_le<uint16_t>(low_bytes) | static_cast<uint32_t>(s.high) << 16;
  s.insn = decode(raw, h.extensions());
  if (is_branch(s.insn.op) || ends_block(s.insn.op)) return nullptr;
  return &straddlers_.emplace_back(s);
}

void Translator::dump(uint64_t pc, uint32_t count, size_t size) const {
  const std::string path = fmt::format("{}/{:x}_{}.bin", dump_dir_, pc, count);
  if (std::FILE* f = std::fopen(path.c_str(), "w")) {
    std::fwrite(emitter_->getCode(), 1, size, f);
    std::fclose(f);
  }
}

bool Translator::translate(Hart& h, Block& b, uint64_t pc) {
  const auto start = std::chrono::steady_clock::now();
  const bool done = emit_block(h, b, pc);
  if (done) ++stats_.blocks_translated;
  stats_.cache_used = arena_.used();
  stats_.translate_ns += static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count());
  return done;
}

void Translator::refill() {
  arena_.reset(stubs_bytes_);
  straddlers_.clear();
  ++stats_.cache_flushes;
  stats_.cache_used = arena_.used();
}

void Translator::chain(uintptr_t exit, const void* target) {
  const auto* info = reinterpret_cast<const ChainInfo*>(exit);
  const auto* site = reinterpret_cast<const uint8_t*>(exit) - info->site_back;
  if (!arena_.contains(site) || !arena_.contains(target)) return;
  const int64_t rel = static_cast<const uint8_t*>(target) - (site + 5);
  const auto rel32 = static_cast<int32_t>(rel);
  uint8_t* w = arena_.writable(site);
  // The site is a 5-byte jmp rel32 (E9) that went to its exit stub; only its displacement
  // changes. This hart's thread is the only one that runs this arena, and it is not in it.
  std::memcpy(w + 1, &rel32, sizeof(rel32));
  ++stats_.chained_exits;
}

}  // namespace vessel::rv::jit
