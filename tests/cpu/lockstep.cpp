#include "lockstep.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "base/bits.hpp"
#include "cpu/riscv/csr.hpp"
#include "cpu/riscv/decoder.hpp"
#include "cpu/riscv/dispatch.hpp"
#include "hart_test_access.hpp"

namespace vessel::rv::lockstep {

namespace {

// A block is at most 64 instructions of at most 4 bytes, plus the upper half of an instruction
// that straddles a page end (run on its own).
constexpr size_t kMaxBlockInsns = 64;
constexpr size_t kMaxBlockBytes = kMaxBlockInsns * 4 + 2;
// How many extra blocks either machine may run to realign block boundaries in one turn.
constexpr unsigned kMaxRealign = 256;
constexpr size_t kHistory = 8;
constexpr uint64_t kNoReservation = ~0ULL;
constexpr uint64_t kForeignReservation = ~0ULL - 1;  // a host address outside RAM

// clang-format off
constexpr const char* kXNames[] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6"};
// clang-format on

struct CsrName {
  uint16_t number;
  const char* name;
};
// Every CSR Hart::csr_read implements, but only the first of the hpm counters and events
// (all hardwired to zero) and of the PMP registers (compared separately).
constexpr CsrName kCsrs[] = {
    {kFflags, "fflags"},
    {kFrm, "frm"},
    {kFcsr, "fcsr"},
    {kCycle, "cycle"},
    {kTime, "time"},
    {kInstret, "instret"},
    {kHpmcounter3, "hpmcounter3"},
    {kSstatus, "sstatus"},
    {kSie, "sie"},
    {kStvec, "stvec"},
    {kScounteren, "scounteren"},
    {kSenvcfg, "senvcfg"},
    {kSscratch, "sscratch"},
    {kSepc, "sepc"},
    {kScause, "scause"},
    {kStval, "stval"},
    {kSip, "sip"},
    {kStimecmp, "stimecmp"},
    {kSatp, "satp"},
    {kMvendorid, "mvendorid"},
    {kMarchid, "marchid"},
    {kMimpid, "mimpid"},
    {kMhartid, "mhartid"},
    {kMconfigptr, "mconfigptr"},
    {kMstatus, "mstatus"},
    {kMisa, "misa"},
    {kMedeleg, "medeleg"},
    {kMideleg, "mideleg"},
    {kMie, "mie"},
    {kMtvec, "mtvec"},
    {kMcounteren, "mcounteren"},
    {kMenvcfg, "menvcfg"},
    {kMcountinhibit, "mcountinhibit"},
    {kMhpmevent3, "mhpmevent3"},
    {kMscratch, "mscratch"},
    {kMepc, "mepc"},
    {kMcause, "mcause"},
    {kMtval, "mtval"},
    {kMip, "mip"},
    {kMcycle, "mcycle"},
    {kMinstret, "minstret"},
    {kMhpmcounter3, "mhpmcounter3"},
    {kPmpcfg0, "pmpcfg0"},
    {kPmpcfg0 + 2, "pmpcfg2"},
    {kMtinst, "mtinst"},
    {kMtval2, "mtval2"},
    {kHstatus, "hstatus"},
    {kHedeleg, "hedeleg"},
    {kHideleg, "hideleg"},
    {kHie, "hie"},
    {kHtimedelta, "htimedelta"},
    {kHcounteren, "hcounteren"},
    {kHenvcfg, "henvcfg"},
    {kHtval, "htval"},
    {kHip, "hip"},
    {kHvip, "hvip"},
    {kHtinst, "htinst"},
    {kHgatp, "hgatp"},
    {kVsstatus, "vsstatus"},
    {kVsie, "vsie"},
    {kVstvec, "vstvec"},
    {kVsscratch, "vsscratch"},
    {kVsepc, "vsepc"},
    {kVscause, "vscause"},
    {kVstval, "vstval"},
    {kVsip, "vsip"},
    {kVstimecmp, "vstimecmp"},
    {kVsatp, "vsatp"},
};
constexpr size_t kNumCsrs = sizeof(kCsrs) / sizeof(kCsrs[0]);
constexpr size_t kNumPmpAddr = Hart::kNumPmp;

// The compared state as one flat array, with a name for each slot.
enum Slot : size_t {
  kSlotX = 0,            // x1..x31
  kSlotF = kSlotX + 31,  // f0..f31
  kSlotPc = kSlotF + 32,
  kSlotPriv,
  kSlotInstret,
  kSlotFflags,
  kSlotFrm,
  kSlotReservation,
  kSlotReservationValue,
  kSlotCsr,  // kCsrs in order
  kSlotPmpAddr = kSlotCsr + kNumCsrs,
  kNumSlots = kSlotPmpAddr + kNumPmpAddr,
};

struct Snapshot {
  std::array<uint64_t, kNumSlots> value{};
  std::array<bool, kNumSlots> valid{};
};

const std::array<std::string, kNumSlots>& slot_names() {
  static const std::array<std::string, kNumSlots> names = [] {
    std::array<std::string, kNumSlots> n;
    for (unsigned r = 1; r < 32; ++r) n[kSlotX + r - 1] = fmt::format("x{} ({})", r, kXNames[r]);
    for (unsigned r = 0; r < 32; ++r) n[kSlotF + r] = fmt::format("f{}", r);
    n[kSlotPc] = "pc";
    n[kSlotPriv] = "priv";
    n[kSlotInstret] = "instret (retired instructions)";
    n[kSlotFflags] = "fflags (hart field)";
    n[kSlotFrm] = "frm (hart field)";
    n[kSlotReservation] = "reservation (guest address)";
    n[kSlotReservationValue] = "reservation value";
    for (size_t k = 0; k < kNumCsrs; ++k) n[kSlotCsr + k] = kCsrs[k].name;
    for (size_t k = 0; k < kNumPmpAddr; ++k) n[kSlotPmpAddr + k] = fmt::format("pmpaddr{}", k);
    return n;
  }();
  return names;
}

void put(Snapshot& s, size_t slot, uint64_t value, bool valid = true) {
  s.value[slot] = valid ? value : 0;
  s.valid[slot] = valid;
}

Snapshot capture(Machine& m) {
  Snapshot s;
  Hart& h = m.hart();
  for (unsigned r = 1; r < 32; ++r) put(s, kSlotX + r - 1, h.x[r]);
  for (unsigned r = 0; r < 32; ++r) put(s, kSlotF + r, h.f[r]);
  put(s, kSlotPc, h.pc);
  // The privilege, with the H extension's V in bit 2.
  put(s, kSlotPriv, static_cast<uint64_t>(h.priv) | (h.virt ? 4 : 0));
  put(s, kSlotInstret, h.instret);
  put(s, kSlotFflags, h.fflags);
  put(s, kSlotFrm, h.frm);
  const uint64_t reservation = m.guest_address(h.reservation_pa);
  put(s, kSlotReservation, reservation);
  // The value an SC compares against matters only while a reservation is held.
  put(s, kSlotReservationValue, h.reservation_value, reservation != kNoReservation);
  // Every CSR as M-mode reads it, whatever mode the hart is in.
  const Priv saved = h.priv;
  const bool saved_virt = h.virt;
  HartTestAccess::set_priv(h, Priv::kM);
  for (size_t k = 0; k < kNumCsrs; ++k) {
    uint64_t v = 0;
    const bool ok = h.csr_read(kCsrs[k].number, v);
    put(s, kSlotCsr + k, v, ok);
  }
  for (size_t k = 0; k < kNumPmpAddr; ++k) {
    uint64_t v = 0;
    const bool ok = h.csr_read(static_cast<uint16_t>(kPmpaddr0 + k), v);
    put(s, kSlotPmpAddr + k, v, ok);
  }
  HartTestAccess::set_priv(h, saved, saved_virt);
  return s;
}

const char* priv_name(Priv p) {
  switch (p) {
    case Priv::kM: return "M";
    case Priv::kS: return "S";
    case Priv::kU: break;
  }
  return "U";
}

// Progress of a hart: instructions retired and traps taken. Two engines that agree have equal
// progress at every block boundary the two share.
struct Progress {
  uint64_t instret;
  uint64_t traps;
  bool operator==(const Progress&) const = default;
  bool behind(const Progress& o) const { return instret <= o.instret && traps <= o.traps; }
};
Progress progress(const Hart& h) { return {h.instret, h.stats.traps}; }

}  // namespace

// ---- Machine ----

Machine::Machine(const MachineConfig& config, Engine engine)
    : config_(config), hart_(0, bus_, irq_, clock_, code_) {
  Result<MappedMemory> ram = MappedMemory::allocate(config_.ram_size);
  if (!ram.ok()) std::abort();  // out of address space
  ram_ = std::move(ram.value());
  if (!bus_.add_memory({config_.ram_base, config_.ram_size, ram_.data(), true, "ram"}).ok()) {
    std::abort();  // a fixed layout: cannot fail
  }
  // As the virt board does: loader writes drop decoded code, and a page that gains code loses
  // its write mappings so that stores to it reach the code cache.
  bus_.set_write_observer(
      [this](uint64_t host, uint64_t len) { code_.invalidate_later(host, len); });
  code_.set_new_code_page_listener([this](uint64_t) { hart_.drop_write_mappings(); });
  // Time stands still at the same value on every machine, run after run.
  clock_.freeze_at(config_.mtime);
  // WFI is a hint: a wake-up at once is allowed, and keeps both machines deterministic.
  hart_.set_wfi_max_sleep(std::chrono::nanoseconds(0));
  // Creating the arena needs memory and a memfd; a test machine without them cannot run.
  if (!hart_.set_engine(engine).ok()) std::abort();
  hart_.set_jit_threshold(config_.jit_threshold);
  hart_.reset(config_.ram_base);
}

bool Machine::load(uint64_t pa, std::span<const uint8_t> bytes) {
  if (pa < config_.ram_base || !range_within(pa - config_.ram_base, bytes.size(), ram_.size())) {
    return false;
  }
  uint8_t* host = ram_.data() + (pa - config_.ram_base);
  std::copy(bytes.begin(), bytes.end(), host);
  code_.invalidate_later(reinterpret_cast<uint64_t>(host), bytes.size());
  return true;
}

uint64_t Machine::guest_address(uint64_t host) const {
  if (host == kNoReservation) return kNoReservation;
  const auto base = reinterpret_cast<uint64_t>(ram_.data());
  if (host < base || host - base >= ram_.size()) return kForeignReservation;
  return config_.ram_base + (host - base);
}

bool Machine::translate(uint64_t va, uint64_t satp, uint64_t& pa) const {
  const uint64_t mode = satp >> 60;
  if (mode == 0) {
    pa = va;
    return true;
  }
  constexpr uint64_t kPpnMask = (1ULL << 44) - 1;
  const int levels = mode == 8 ? 3 : 4;
  uint64_t table = (satp & kPpnMask) << 12;
  for (int level = levels - 1; level >= 0; --level) {
    const unsigned shift = 12 + 9 * static_cast<unsigned>(level);
    const uint64_t slot = table + ((va >> shift) & 0x1ff) * 8;
    if (slot < config_.ram_base || !range_within(slot - config_.ram_base, 8, ram_.size())) {
      return false;
    }
    const auto e = load_le<uint64_t>(ram_.data() + (slot - config_.ram_base));
    if (!(e & 1)) return false;
    const uint64_t ppn = (e >> 10) & kPpnMask;
    if (e & 0xa) {  // R or X: a leaf
      const uint64_t offset_mask = (1ULL << shift) - 1;
      pa = ((ppn << 12) & ~offset_mask) | (va & offset_mask);
      return true;
    }
    table = ppn << 12;
  }
  return false;
}

size_t Machine::peek(uint64_t va, Priv priv, uint64_t satp, uint8_t* out, size_t len) const {
  size_t done = 0;
  while (done < len) {
    const uint64_t v = va + done;
    uint64_t pa = 0;
    if (!translate(v, priv == Priv::kM ? 0 : satp, pa)) break;
    const size_t n = std::min<size_t>(len - done, 0x1000 - (v & 0xfff));
    if (pa < config_.ram_base || !range_within(pa - config_.ram_base, n, ram_.size())) break;
    std::memcpy(out + done, ram_.data() + (pa - config_.ram_base), n);
    done += n;
  }
  return done;
}

// ---- comparing ----

namespace {
bool is_counter(size_t slot) {
  if (slot == kSlotInstret) return true;
  if (slot < kSlotCsr || slot >= kSlotCsr + kNumCsrs) return false;
  const uint16_t csr = kCsrs[slot - kSlotCsr].number;
  return csr == kCycle || csr == kInstret || csr == kMcycle || csr == kMinstret;
}
}  // namespace

std::vector<FieldDiff> compare_state(Machine& reference, Machine& test, bool counters) {
  const Snapshot a = capture(reference);
  const Snapshot b = capture(test);
  std::vector<FieldDiff> diffs;
  for (size_t k = 0; k < kNumSlots; ++k) {
    if (!counters && is_counter(k)) continue;
    if (a.valid[k] != b.valid[k]) {
      diffs.push_back({slot_names()[k] + " (readable)", a.valid[k], b.valid[k]});
    } else if (a.value[k] != b.value[k]) {
      diffs.push_back({slot_names()[k], a.value[k], b.value[k]});
    }
  }
  return diffs;
}

std::string compare_memory(const Machine& reference, const Machine& test) {
  const std::span<const uint8_t> a = reference.ram(), b = test.ram();
  if (a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0) return "";
  if (a.size() != b.size()) return fmt::format("RAM sizes differ: {} vs {}", a.size(), b.size());
  std::string text;
  size_t count = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    if (a[k] == b[k]) continue;
    if (++count <= 8) {
      text += fmt::format("\n  ram[{:#x}]: reference {:#04x}, test {:#04x}",
                          reference.config().ram_base + k, a[k], b[k]);
    }
  }
  return fmt::format("{} byte(s) of RAM differ{}", count, text);
}

// ---- blocks ----

std::vector<DecodedInsn> BlockTrace::executed() const {
  std::vector<DecodedInsn> out;
  // A fetch fault ran nothing: the instruction was never there to run.
  const bool fetch_fault = trapped && (cause == 1 || cause == 12);
  const uint64_t count = retired + (trapped && !fetch_fault ? 1 : 0);
  size_t at = 0;
  while (out.size() < count && at + 2 <= code.size()) {
    uint32_t raw = load_le<uint16_t>(code.data() + at);
    if (insn_length(static_cast<uint16_t>(raw)) == 4) {
      if (at + 4 > code.size()) break;
      raw = load_le<uint32_t>(code.data() + at);
    }
    out.push_back(decode(raw));
    at += out.back().len;
  }
  return out;
}

std::string BlockTrace::disassembly() const {
  if (interrupt) return fmt::format("    interrupt taken at {:#x} instead of a block\n", pc);
  std::string text;
  const bool raised = trapped && cause != 1 && cause != 12;  // not a fetch fault
  size_t at = 0;
  for (size_t n = 0; n < kMaxBlockInsns && at + 2 <= code.size(); ++n) {
    uint32_t raw = load_le<uint16_t>(code.data() + at);
    const bool wide = insn_length(static_cast<uint16_t>(raw)) == 4;
    if (wide && at + 4 > code.size()) break;
    if (wide) raw = load_le<uint32_t>(code.data() + at);
    const DecodedInsn d = decode(raw);
    const char* mark = raised && n == retired ? " !> " : (n < retired ? "  > " : "    ");
    text += fmt::format("{}{:#x}: {:>8}  {}\n", mark, pc + at,
                        wide ? fmt::format("{:08x}", raw) : fmt::format("{:04x}", raw),
                        disassemble(d, pc + at));
    at += d.len;
    // The block ends at the first jump or system instruction, or its page's end; it was left
    // at a branch that was taken.
    if (ends_block(d.op) || (is_branch(d.op) && n + 1 >= retired) || ((pc + at) & 0xfff) == 0) {
      break;
    }
  }
  if (trapped) text += fmt::format("    (!> raised exception cause {})\n", cause);
  return text;
}

bool Divergence::names(const std::string& field) const {
  for (const FieldDiff& f : fields) {
    if (f.name == field || f.name.starts_with(field + " ")) return true;
  }
  return field == "memory" && !memory.empty();
}

std::string Divergence::report() const {
  std::string text = fmt::format("lockstep divergence in turn {}\n", turn);
  for (const BlockTrace& b : blocks) {
    text += fmt::format("block at {:#x} ({}-mode, satp {:#x}), {} instruction(s) retired:\n", b.pc,
                        priv_name(b.priv), b.satp, b.retired);
    text += b.disassembly();
  }
  if (!note.empty()) text += note + "\n";
  if (!fields.empty()) text += "differing state (reference vs test):\n";
  for (const FieldDiff& f : fields) {
    text += fmt::format("  {}: {:#x} vs {:#x}\n", f.name, f.reference, f.test);
  }
  if (!memory.empty()) text += memory + "\n";
  if (!history.empty()) text += "turns before:\n";
  for (const std::string& h : history) text += "  " + h + "\n";
  return text;
}

// ---- the runner ----

Lockstep::Lockstep(const MachineConfig& config, Engine test_engine)
    : reference_(config, Engine::kInterp), test_(config, test_engine) {}

bool Lockstep::load(uint64_t pa, std::span<const uint8_t> bytes) {
  return reference_.load(pa, bytes) && test_.load(pa, bytes);
}

void Lockstep::start(uint64_t pc) {
  reference_.hart().reset(pc);
  test_.hart().reset(pc);
  turns_ = 0;
  history_.clear();
}

BlockTrace Lockstep::run_reference_block() {
  Hart& h = reference_.hart();
  BlockTrace t;
  t.turn = turns_;
  t.pc = h.pc;
  t.priv = h.priv;
  t.virt = h.virt;
  // At V=1 the guest's own translation (the G stage under it maps RAM as it is in the
  // torture programs).
  HartTestAccess::csr_read_as_m(h, h.virt ? kVsatp : kSatp, t.satp);
  t.code.resize(kMaxBlockBytes);
  t.code.resize(reference_.peek(t.pc, t.priv, t.satp, t.code.data(), t.code.size()));
  const uint64_t instret = h.instret, traps = h.stats.traps, interrupts = h.stats.interrupts;
  h.step_block();
  t.retired = h.instret - instret;
  t.interrupt = h.stats.interrupts != interrupts;
  t.trapped = !t.interrupt && h.stats.traps != traps;
  if (t.trapped || t.interrupt) {
    HartTestAccess::csr_read_as_m(h, h.priv == Priv::kM ? kMcause : kScause, t.cause);
  }
  if (observer_) observer_(t);
  return t;
}

std::string Lockstep::describe(const BlockTrace& t) const {
  if (t.interrupt) return fmt::format("turn {}: interrupt at {:#x}", t.turn, t.pc);
  return fmt::format("turn {}: {:#x} ({}-mode), {} retired{}", t.turn, t.pc, priv_name(t.priv),
                     t.retired, t.trapped ? fmt::format(", then cause {}", t.cause) : "");
}

void Lockstep::realign(Divergence& d) {
  for (unsigned extra = 0;; ++extra) {
    const Progress r = progress(reference_.hart()), t = progress(test_.hart());
    if (r == t) return;
    if (extra == kMaxRealign) {
      d.note = "the engines' block boundaries could not be realigned";
      return;
    }
    if (t.behind(r)) {
      test_.hart().step_block();
    } else if (r.behind(t)) {
      d.blocks.push_back(run_reference_block());
    } else {
      d.note = "one engine retired more instructions, the other took more traps";
      return;
    }
  }
}

std::optional<Divergence> Lockstep::step() {
  ++turns_;
  Divergence d;
  d.turn = turns_;
  d.blocks.push_back(run_reference_block());
  test_.hart().step_block();
  if (realign_) realign(d);
  d.fields = compare_state(reference_, test_);
  d.memory = compare_memory(reference_, test_);
  const bool diverged = !d.fields.empty() || !d.memory.empty() || !d.note.empty();
  const Progress r = progress(reference_.hart()), t = progress(test_.hart());
  if (diverged && !realign_ && r != t) {
    d.note = fmt::format(
        "the blocks ended at different places: the reference has retired {} instructions and "
        "taken {} traps, the test {} and {}",
        r.instret, r.traps, t.instret, t.traps);
  }
  if (diverged) d.history = history_;
  for (const BlockTrace& b : d.blocks) {
    history_.push_back(describe(b));
    if (history_.size() > kHistory) history_.erase(history_.begin());
  }
  if (!diverged) return std::nullopt;
  return d;
}

std::optional<Divergence> Lockstep::run_free(const std::function<bool(const Hart&)>& done,
                                             uint64_t max_polls) {
  Divergence d;
  for (Machine* m : {&reference_, &test_}) {
    Hart& h = m->hart();
    std::atomic<bool> stop{false};
    uint64_t polls = 0;
    bool reached = false;
    const StopReason why = h.run(stop, [&] {
      reached = done(h);
      if (reached || ++polls >= max_polls) stop.store(true);
    });
    if (!reached) {
      d.note +=
          fmt::format("the {} did not reach the end: {}\n", m == &reference_ ? "reference" : "test",
                      why == StopReason::kTrapLoop ? h.describe_trap_loop() : "poll limit");
    }
  }
  d.fields = compare_state(reference_, test_, false);
  d.memory = compare_memory(reference_, test_);
  if (d.fields.empty() && d.memory.empty() && d.note.empty()) return std::nullopt;
  d.note += "(free run: the machines ran on their own with Hart::run; counters not compared)";
  return d;
}

Lockstep::Result Lockstep::run(uint64_t max_turns, const std::function<bool(const Hart&)>& done) {
  Result r;
  while (r.turns < max_turns) {
    if (done(reference_.hart())) {
      r.finished = true;
      break;
    }
    r.divergence = step();
    ++r.turns;
    if (r.divergence) break;
  }
  if (!r.divergence && !r.finished) r.finished = done(reference_.hart());
  return r;
}

}  // namespace vessel::rv::lockstep
