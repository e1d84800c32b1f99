// The body: chunks of random rows between templates that change mode, translation, status
// bits, PMP and PTEs, raise interrupts, fault on fetch, modify code, and loop; and generate().
#include <algorithm>

#include "base/bits.hpp"
#include "encode.hpp"
#include "torture/gen.hpp"
#include "torture/layout.hpp"

namespace vessel::rv::torture {

using namespace test;  // registers and encoders
using namespace layout;

namespace {
constexpr uint64_t kMppS = 1ULL << mstatus::kMPPShift;
constexpr uint64_t kProbeVa = page(kProbePage);
// The most one chunk may add to the body (a run's slots, a straddle's padding).
constexpr uint64_t kChunkRoom = 3072;
}  // namespace

uint64_t satp_value(unsigned mode) {
  if (mode == 0) return 0;
  return mode == 39 ? kSatpSv39 | kRoot39 >> 12 : kSatpSv48 | kRoot48 >> 12;
}

Gen::Gen(const Options& options)
    : opt_(options), rng_(options.seed), a_(kRamBase), done_(a_.label()) {}

void Gen::set_bases() {
  const uint64_t alias = st_.priv == Priv::kU && st_.satp != 0 ? kAlias : 0;
  a_.li(s0, kS0 + alias);
  a_.li(s1, kS1 + alias);
  a_.li(sp, kSp + alias);
}

void Gen::to_mode(Priv target) {
  const unsigned tmp = pick_tmp();
  const Label next = a_.label();
  // M may go down with sret too (to SPP); S only can.
  const bool sret = st_.priv == Priv::kS || rng_.chance(30);
  if (sret) {
    a_.word(enc::csrrci(zero, kSstatus, 2));  // SIE off: no S interrupt may take sepc
    a_.li(tmp, mstatus::kSPP);
    a_.word(target == Priv::kS ? enc::csrrs(zero, kSstatus, tmp) : enc::csrrc(zero, kSstatus, tmp));
    virt_return(true, tmp);
  } else {
    a_.word(enc::csrrci(zero, kMstatus, 8));  // MIE off: no M interrupt may take mepc
    a_.li(tmp, mstatus::kMPP);
    a_.word(enc::csrrc(zero, kMstatus, tmp));
    if (target == Priv::kS) {
      a_.li(tmp, kMppS);
      a_.word(enc::csrrs(zero, kMstatus, tmp));
    }
    virt_return(false, tmp);
  }
  a_.la(tmp, next);
  if (target == Priv::kU && st_.satp != 0) {  // U runs in the alias mapping
    a_.li(t0 == tmp ? t1 : t0, kAlias);
    a_.word(enc::add(tmp, tmp, t0 == tmp ? t1 : t0));
  }
  a_.word(enc::csrrw(zero, sret ? kSepc : kMepc, tmp));
  a_.word(sret ? enc::sret() : enc::mret());
  a_.bind(next);
  // An sret in S with TSR set traps instead: the handler skips it and S goes on.
  if (!(sret && st_.priv == Priv::kS && st_.tsr)) st_.priv = target;
  set_bases();
}

void Gen::raise_mode() {
  a_.li(a7, kMagicUp);
  a_.word(enc::ecall());
  a_.li(a7, rng_.below(64));  // or the random ecalls after this one would go up too
  if (st_.priv == Priv::kU) {
    st_.priv = (cfg_.medeleg >> 8) & 1 ? Priv::kS : Priv::kM;
  } else {
    st_.priv = Priv::kM;  // ecall from S is never delegated; from M it stays in M
  }
  set_bases();
}

void Gen::switch_satp() {
  const unsigned modes[] = {0, 39, 48};
  const unsigned mode = rng_.pick(modes);
  const unsigned tmp = pick_tmp();
  a_.li(tmp, satp_value(mode));
  a_.word(enc::csrrw(zero, kSatp, tmp));
  if (cfg_.virt && st_.priv == Priv::kM) {  // the guest's: what S-mode (VS) translates with
    a_.word(enc::csrrw(zero, kVsatp, tmp));
    a_.word(0x22000073);  // hfence.vvma
  }
  a_.word(enc::sfence_vma(rng_.chance(70) ? zero : tmp, zero));
  if (!(st_.priv == Priv::kS && st_.tvm)) st_.satp = mode;  // TVM makes both trap in S
}

void Gen::toggle_status() {
  const bool m = st_.priv == Priv::kM;
  const uint16_t status = m ? kMstatus : kSstatus;
  const unsigned tmp = pick_tmp();
  auto set_or_clear = [&](uint64_t bits, bool set) {
    a_.li(tmp, bits);
    a_.word(set ? enc::csrrs(zero, status, tmp) : enc::csrrc(zero, status, tmp));
  };
  bool set = rng_.chance(50);
  // At V=1 TVM and TSR would not apply to VS-mode as the generator's state says: not those.
  switch (rng_.below(m ? (cfg_.virt ? 6 : 8) : 4)) {
    case 0: set_or_clear(mstatus::kSUM, set); break;
    case 1: set_or_clear(mstatus::kMXR, set); break;
    case 2:  // FS off makes every FP instruction illegal; on again as Initial or Dirty
      set = rng_.chance(70);
      set_or_clear(set ? (rng_.chance(50) ? 1ULL : 3ULL) << mstatus::kFSShift : mstatus::kFS, set);
      if (st_.priv != Priv::kU) st_.fs = set;
      break;
    case 3: a_.word(set ? enc::csrrsi(zero, status, 2) : enc::csrrci(zero, status, 2)); break;
    case 4: a_.word(set ? enc::csrrsi(zero, status, 8) : enc::csrrci(zero, status, 8)); break;
    case 5:  // MPRV: M's loads and stores translate as S or U
      set_or_clear(mstatus::kMPP, false);
      if (set) set_or_clear(mstatus::kMPRV | (rng_.chance(50) ? kMppS : 0), true);
      if (!set) set_or_clear(mstatus::kMPRV, false);
      break;
    case 6:
      if (rng_.chance(50)) {
        set_or_clear(mstatus::kTW, set);
        st_.tw = set;
      } else {
        set_or_clear(mstatus::kTVM, set);
        st_.tvm = set;
      }
      break;
    default:
      if (cfg_.tsr_allowed || !set) {
        set_or_clear(mstatus::kTSR, set);
        st_.tsr = set;
      }
      break;
  }
}

void Gen::interrupt() {
  const bool m = st_.priv == Priv::kM;
  const uint16_t ip = m ? kMip : kSip, ie = m ? kMie : kSie;
  const unsigned tmp = pick_tmp();
  switch (rng_.below(m ? 4 : 2)) {
    case 0:  // supervisor software interrupt (in S: only when delegated)
      a_.word(enc::csrrsi(zero, ip, 2));
      a_.word(enc::csrrsi(zero, ie, 2));
      break;
    case 1:  // supervisor timer through stimecmp (time stands still well past 0)
      a_.word(enc::csrrw(zero, kStimecmp, zero));
      a_.li(tmp, irq::kSTIP);
      if (m && !cfg_.stce) a_.word(enc::csrrs(zero, kMip, tmp));
      a_.word(enc::csrrs(zero, ie, tmp));
      break;
    case 2:  // supervisor external interrupt, through mip's software-writable SEIP
      a_.li(tmp, irq::kSEIP);
      a_.word(enc::csrrs(zero, kMip, tmp));
      a_.word(enc::csrrs(zero, kMie, tmp));
      break;
    default:  // the timer back to never
      a_.li(tmp, ~0ULL);
      a_.word(enc::csrrw(zero, kStimecmp, tmp));
      break;
  }
  if (rng_.chance(50)) a_.word(m ? enc::csrrsi(zero, kMstatus, 8) : enc::csrrsi(zero, kSstatus, 2));
  if (rng_.chance(30)) wfi_row();
}

void Gen::pte_flip() {
  const unsigned tmp = pick_tmp(), addr = tmp == t0 ? t1 : t0;
  const uint64_t flags = rng_.pick(kProbeChoices) | (rng_.chance(50) ? pte::kA | pte::kD : 0);
  a_.li(tmp, pte::leaf(kProbeVa, flags));
  a_.li(addr, kL0Identity + 8 * kProbePage);
  a_.word(enc::sd(tmp, addr, 0));
  a_.li(tmp, pte::leaf(kProbeVa, flags | (flags ? pte::kU : 0)));
  a_.li(addr, kL0Alias + 8 * kProbePage);
  a_.word(enc::sd(tmp, addr, 0));
  if (rng_.chance(50)) {
    a_.word(enc::sfence_vma(zero, zero));
  } else {  // both pages the entries map, one at a time
    a_.li(addr, kProbeVa);
    a_.word(enc::sfence_vma(addr, zero));
    a_.li(addr, kProbeVa + kAlias);
    a_.word(enc::sfence_vma(addr, zero));
  }
}

void Gen::pmp_change() {
  const unsigned tmp = pick_tmp();
  const uint64_t perms = rng_.below(8);
  uint64_t cfg = 0;
  switch (rng_.below(4)) {
    case 0:  // NAPOT over the probe page
      csr_write_imm(kPmpaddr0, (kProbeVa >> 2) | 0x1ff);
      cfg = pmp::kNapot | perms;
      break;
    case 1:  // NA4 over one word below s1
      csr_write_imm(kPmpaddr0, (kS1 - 8 * (1 + rng_.below(8))) >> 2);
      cfg = pmp::kNa4 | perms;
      break;
    case 2:  // TOR from the middle of page 35 to the middle of the probe page
      csr_write_imm(kPmpaddr0, (kS1 - 0x800) >> 2);
      csr_write_imm(kPmpaddr0 + 1, (kS1 + 0x800) >> 2);
      cfg = (pmp::kTor | perms) << 8;
      break;
    default: break;  // all of entries 0..7 off
  }
  a_.li(tmp, cfg);
  a_.word(enc::csrrw(zero, kPmpcfg0, tmp));
}

void Gen::smc_later() {
  const unsigned tmp = pick_tmp();
  const unsigned value = tmp == t0 ? t1 : t0;
  const Label slot = a_.label();
  const bool wide = rng_.chance(70);
  a_.la(tmp, slot);
  if (wide) {
    a_.li32(value, plain_alu_word());
    a_.word(enc::sw(value, tmp, 0));
  } else {  // c.li rd, imm
    const auto patch = static_cast<uint16_t>(0x4001 | pick_tmp() << 7 | rng_.below(32) << 2);
    a_.li(value, patch);
    a_.word(enc::sh(value, tmp, 0));
  }
  if (rng_.chance(50)) a_.word(enc::fence_i());
  run(static_cast<unsigned>(rng_.below(6)));
  a_.bind(slot);
  if (wide) {
    a_.word(plain_alu_word());
  } else {
    a_.half(static_cast<uint16_t>(0x0001 | pick_tmp() << 7 | rng_.below(32) << 2));  // c.addi
  }
}

void Gen::smc_running() {
  // auipc, lui + addiw, sw, k instructions, then the slot the sw overwrites: all one block.
  const unsigned tmp = pick_tmp();
  const unsigned value = tmp == t0 ? t1 : t0;
  const auto k = static_cast<int32_t>(rng_.below(4));
  a_.word(enc::auipc(tmp, 0));
  a_.li32(value, plain_alu_word());
  a_.word(enc::sw(value, tmp, 16 + 4 * k));
  for (int32_t i = 0; i < k; ++i) a_.word(plain_alu_word());
  a_.word(plain_alu_word());
}

void Gen::fp_values() {
  const unsigned tmp = pick_tmp();
  for (uint64_t n = 1 + rng_.below(4); n > 0; --n) {
    const uint64_t v = rng_.chance(50) ? 0xffffffff00000000ULL | rng_.u32() : rng_.next();
    a_.li(tmp, rng_.chance(30) ? v : (rng_.next() & 0xfff0000000000001ULL));
    a_.word(enc::fmv_d_x(static_cast<unsigned>(rng_.below(32)), tmp));
  }
  if (rng_.chance(50)) a_.word(enc::csrrwi(zero, kFrm, static_cast<unsigned>(rng_.below(8))));
}

void Gen::lr_sc() {
  const bool dword = rng_.chance(50);
  const unsigned tmp = pick_tmp();
  const auto size = static_cast<int32_t>(dword ? 8 : 4);
  const int32_t off = (static_cast<int32_t>(rng_.below(1024)) - 512) & ~(size - 1);
  const auto aqrl = static_cast<unsigned>(rng_.below(4)) << 25;
  a_.word(enc::addi(tmp, pick_base(), off));
  unsigned rd = pick_rd();
  while (rd == tmp) rd = pick_rd();  // the address must survive to the sc
  a_.word((dword ? enc::lr_d(rd, tmp) : enc::lr_w(rd, tmp)) | aqrl);
  for (uint64_t n = rng_.below(3); n > 0; --n) a_.word(plain_alu_word(tmp));
  if (rng_.chance(25)) {  // a store to the reserved bytes: SC fails if it changed them
    const auto src = static_cast<unsigned>(rng_.below(32));
    a_.word(dword ? enc::sd(src, tmp, 0) : enc::sw(src, tmp, 0));
  }
  const auto rs2 = static_cast<unsigned>(rng_.below(32));
  a_.word((dword ? enc::sc_d(pick_rd(), rs2, tmp) : enc::sc_w(pick_rd(), rs2, tmp)) | aqrl);
  if (rng_.chance(30))
    a_.word(dword ? enc::sc_d(pick_rd(), rs2, tmp) : enc::sc_w(pick_rd(), rs2, tmp));
}

void Gen::fetch_fault() {
  uint64_t va = 0;
  if (!paged()) {  // physical: no memory there
    const uint64_t bad[] = {0x1000, 0x90000000, kRamBase + ram_size(), 0};
    va = rng_.pick(bad);
  } else if (st_.priv == Priv::kS) {
    const uint64_t bad[] = {kUnmapped,   page(kFirstDataPage), kS0 + kAlias,    kGigaWindow,
                            kMegaWindow, kMisalignedGiga,      kSv48Copy + kS0, kCode + kAlias};
    va = rng_.pick(bad);
  } else {
    const uint64_t bad[] = {kUnmapped + kAlias, kCode,       kS0 + kAlias,
                            kGigaWindow,        kMegaWindow, 0x40000000};
    va = rng_.pick(bad);
  }
  const unsigned tmp = pick_tmp();
  a_.li(tmp, va + 2 * rng_.below(8));
  if (rng_.chance(30)) {
    a_.half(enc::c_jalr(tmp));
  } else {
    a_.word(enc::jalr(ra, tmp, 0));
  }
}

void Gen::windows() {
  uint64_t va = 0;
  const uint64_t alias = st_.priv == Priv::kU ? kAlias : 0;
  switch (rng_.below(6)) {
    case 0: va = kGigaWindow + rng_.below(kRamSize + 0x2000); break;
    case 1: va = kMegaWindow + rng_.below(kRamSize + 0x2000); break;
    case 2: va = kMisalignedGiga + rng_.below(0x10000); break;
    case 3: va = kSv48Copy + kS0 + rng_.below(0x1000); break;
    case 4: va = kS0 + (alias ^ kAlias) + rng_.below(0x800); break;  // the other mode's view
    default: va = kProbeVa + alias + rng_.below(0x1000); break;
  }
  const unsigned tmp = pick_tmp();
  a_.li(tmp, va);
  // At V=1 stores too: outside the G stage (VS-mode bare) they are store guest-page faults.
  if (cfg_.virt && rng_.chance(30)) {
    const auto src = static_cast<unsigned>(rng_.below(32));
    const auto off = static_cast<int32_t>(rng_.below(64));
    a_.word(rng_.chance(50) ? enc::sd(src, tmp, off) : enc::sw(src, tmp, off));
    return;
  }
  const Op loads[] = {Op::lb, Op::lh, Op::lw, Op::ld, Op::lbu, Op::lhu, Op::lwu, Op::flw, Op::fld};
  const InsnInfo& row = insn_info(rng_.pick(loads));
  const auto imm = static_cast<uint32_t>(rng_.below(64)) << 20;
  const unsigned rd = row.operands[0] == 'd' ? pick_rd() : static_cast<unsigned>(rng_.below(32));
  a_.word(row.match | imm | tmp << 15 | rd << 7);
  if (st_.priv != Priv::kU && rng_.chance(30)) a_.word(enc::sfence_vma(tmp, zero));
}

void Gen::straddle() {
  // A 4-byte instruction across a page end: jump over the padding to it.
  const uint64_t gap = kPageSize - (a_.here() & (kPageSize - 1));
  if (gap > 1024 || gap < 8) return;
  const Label at = a_.label();
  a_.jal(zero, at);
  a_.org(a_.here() + kPageSize - 2 - (a_.here() & (kPageSize - 1)));
  a_.bind(at);
  if (rng_.chance(50)) {
    a_.word(plain_alu_word());
  } else {  // one that traps: the handler reads its first half at the page's end
    const auto w = static_cast<uint32_t>(rng_.below(4096)) << 20;
    a_.word(enc::ld(pick_rd(), pick_base(), 0) | w);
  }
}

void Gen::loop() {
  const Label top = a_.label();
  a_.li(s2, 2 + rng_.below(3));
  a_.bind(top);
  run(3 + static_cast<unsigned>(rng_.below(8)));
  a_.word(enc::addi(s2, s2, -1));
  a_.branch(enc::bne(s2, zero, 0), top);
}

void Gen::end() {
  a_.li(a7, kMagicEnd);
  a_.word(enc::ecall());
  a_.word(enc::jal(zero, 0));  // not reached: a stuck program shows as one that never ends
}

void Gen::chunk() {
  // FP off makes FP instructions trap (worth testing), but U cannot turn it on again: keep
  // it off for a while only.
  if (!st_.fs && st_.priv != Priv::kU && rng_.chance(40)) {
    a_.li(t0, 1ULL << mstatus::kFSShift);
    a_.word(enc::csrrs(zero, st_.priv == Priv::kM ? kMstatus : kSstatus, t0));
    st_.fs = true;
  }
  const Priv p = st_.priv;
  const bool m = p == Priv::kM, u = p == Priv::kU;
  // Weights by template; a template the mode cannot use weighs nothing.
  const unsigned weights[] = {
      40,          6, u ? 0u : 8u, m ? 0u : 5u, u ? 0u : 4u, 6, u ? 0u : 5u, m ? 3u : 0u,
      m ? 2u : 0u, 3, 3,           3,           3,           3, 3,           2};
  uint64_t total = 0;
  for (unsigned w : weights) total += w;
  uint64_t pick = rng_.below(total);
  unsigned k = 0;
  while (pick >= weights[k]) pick -= weights[k++];
  switch (k) {
    case 0: run(5 + rng_.small(40)); break;
    case 1: loop(); break;
    case 2: to_mode(m && rng_.chance(50) ? Priv::kS : Priv::kU); break;
    case 3: raise_mode(); break;
    case 4: switch_satp(); break;
    case 5: toggle_status(); break;
    case 6: interrupt(); break;
    case 7: pte_flip(); break;
    case 8: pmp_change(); break;
    case 9: smc_later(); break;
    case 10: smc_running(); break;
    case 11: fp_values(); break;
    case 12: lr_sc(); break;
    case 13: fetch_fault(); break;
    case 14: windows(); break;
    default: straddle(); break;
  }
}

void Gen::body() {
  a_.org(kCode);
  const unsigned chunks = opt_.raw_only ? 0 : (opt_.chunks ? opt_.chunks : 60 + rng_.small(81));
  for (unsigned c = 0; c < chunks && a_.here() + kChunkRoom < kCodeEnd; ++c) {
    checkpoints_.push_back({a_.here(), st_.priv, st_.satp});
    chunk();
  }
  if (!opt_.raw.empty()) {
    // The fuzzer's bytes, as much as fits, then the end (whatever mode they leave behind,
    // the end's ecall reaches a handler that can finish).
    const uint64_t room = kCodeEnd - a_.here() - 64;
    const size_t n = std::min<size_t>(opt_.raw.size(), room);
    for (size_t i = 0; i + 1 < n; i += 2) a_.half(load_le<uint16_t>(opt_.raw.data() + i));
    if (n % 2) a_.half(opt_.raw[n - 1]);
  }
  end();
}

Program Gen::build() {
  Program p;
  choose_config();
  prologue();
  handler(true);
  handler(false);
  body();
  if (!a_.finish(p.error)) return p;
  if (a_.here() > kCodeEnd) {
    p.error = "the body overflows its pages";
    return p;
  }
  p.image.assign(ram_size(), 0);
  std::copy(a_.bytes().begin(), a_.bytes().end(), p.image.begin());
  page_tables(p.image);
  data(p.image);
  p.entry = kEntry;
  p.end_pc = a_.address(done_);
  p.checkpoints = std::move(checkpoints_);
  return p;
}

Program generate(const Options& options) { return Gen(options).build(); }

}  // namespace vessel::rv::torture
