// libFuzzer target: the builtin SBI called with fuzzer-chosen EIDs, FIDs and arguments by a
// hart in S-mode, against a small RAM and ROM.
// Input: a stream of steps {flags, eid selector, fid, a0..a5 (8 bytes each)}; a selector below
// kNumEids picks a known EID, the rest take 8 more bytes as a raw EID. Flag bits 0-5 fold the
// matching argument into RAM (so that DBCN buffers, hart masks and fence ranges land somewhere
// meaningful most of the time), bit 6 makes a0 a small length, bit 7 goes through an ecall
// instruction and Hart::step() instead of Sbi::call. Bytes left after the last step feed the
// console input.
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "base/bits.hpp"
#include "base/clock.hpp"
#include "bus/bus.hpp"
#include "cpu/riscv/code_cache.hpp"
#include "cpu/riscv/hart.hpp"
#include "devices/irq.hpp"
#include "sbi/sbi.hpp"

namespace {
constexpr uint64_t kRamBase = 0x80000000;
constexpr uint64_t kRamSize = 0x4000;
constexpr uint64_t kRomBase = 0x1000;
constexpr size_t kStepBytes = 3 + 6 * 8;
constexpr uint32_t kEcall = 0x00000073;
constexpr unsigned kA0 = 10, kA1 = 11, kA6 = 16, kA7 = 17;

constexpr uint64_t kEids[] = {
    vessel::sbi::kLegacySetTimer,
    vessel::sbi::kLegacyConsolePutchar,
    vessel::sbi::kLegacyConsoleGetchar,
    0x03,
    0x04,
    0x05,
    0x06,
    0x07,
    vessel::sbi::kLegacyShutdown,
    0x0F,
    vessel::sbi::kBase,
    vessel::sbi::kTime,
    vessel::sbi::kIpi,
    vessel::sbi::kRfence,
    vessel::sbi::kHsm,
    vessel::sbi::kSrst,
    vessel::sbi::kDbcn,
    vessel::sbi::kDbcn,
    vessel::sbi::kDbcn,
    0x504D55 /* PMU */,
};
constexpr size_t kNumEids = sizeof(kEids) / sizeof(kEids[0]);

uint64_t take64(const uint8_t*& p, size_t& n) {
  uint8_t buf[8] = {};
  const size_t k = n < 8 ? n : 8;
  if (k != 0) std::memcpy(buf, p, k);
  p += k;
  n -= k;
  return vessel::load_le<uint64_t>(buf);
}

// A broken promise of the SBI is a crash for the fuzzer.
void check(bool ok) {
  if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> ram(kRamSize), rom(0x100, 0x5A);
  vessel::Bus bus;
  if (!bus.add_memory({kRamBase, kRamSize, ram.data(), true, "ram"}).ok()) return 0;
  if (!bus.add_memory({kRomBase, rom.size(), rom.data(), false, "rom"}).ok()) return 0;
  vessel::HartIrq irq;
  vessel::MachineClock clock;
  vessel::rv::CodeCache code;
  auto hart = std::make_unique<vessel::rv::Hart>(0, bus, irq, clock, code);
  bus.set_write_observer([&code](uint64_t host, uint64_t len) { code.invalidate(host, len); });
  code.set_new_code_page_listener([&hart](uint64_t) { hart->drop_write_mappings(); });

  const uint8_t* p = data;
  size_t n = size;
  const size_t whole_steps = size / kStepBytes;
  // Console input: whatever follows the steps the input holds room for.
  const uint8_t* in = data + whole_steps * kStepBytes;
  size_t in_left = size - whole_steps * kStepBytes;

  size_t written = 0, resets = 0;
  vessel::sbi::Platform platform;
  platform.harts = {hart.get()};
  platform.console_write = [&](const uint8_t* bytes, size_t len) {
    check(bytes != nullptr || len == 0);
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < len; ++i) sink = static_cast<uint8_t>(sink ^ bytes[i]);  // ASan reads
    written += len;
  };
  platform.console_read = [&](uint8_t* bytes, size_t len) {
    const size_t k = len < in_left ? len : in_left;
    if (k != 0) std::memcpy(bytes, in, k);
    in += k;
    in_left -= k;
    return k;
  };
  platform.system_reset = [&](bool) { ++resets; };
  platform.bus = &bus;
  vessel::sbi::Sbi sbi(std::move(platform));
  hart->set_ecall_handler(&sbi);
  hart->boot_supervisor(kRamBase, 0);
  // HSM suspend sleeps as WFI does until an interrupt; nothing here would ever wake it, so the
  // fallback bound is what ends each sleep: keep it short.
  hart->set_wfi_max_sleep(std::chrono::microseconds(10));

  for (size_t step = 0; step < 64 && step < whole_steps; ++step) {
    const uint8_t flags = *p++;
    const uint8_t selector = *p++;
    uint64_t fid = *p++;
    n -= 3;
    uint64_t a[6];
    for (uint64_t& v : a) v = take64(p, n);
    uint64_t eid = kEids[selector % kNumEids];
    // Rarely: the raw EID and FID from a0's high and low halves, to reach odd values.
    if (selector >= 0xF0) {
      eid = a[0] >> 32;
      fid = a[0] & 0xffffffff;
    }
    for (unsigned i = 0; i < 6; ++i) {
      if ((flags >> i) & 1) a[i] = kRamBase + a[i] % (kRamSize + 0x40);  // a little past the end
    }
    if ((flags >> 6) & 1) a[0] %= 0x80;

    int64_t error = 0;
    uint64_t value = 0;
    if ((flags >> 7) & 1) {
      // The whole path: an ecall instruction in RAM, stepped by the hart in S-mode.
      const uint8_t insn[4] = {static_cast<uint8_t>(kEcall), 0, 0, 0};
      bus.write_phys(kRamBase, insn, sizeof insn);
      hart->pc = kRamBase;  // still in S: every earlier step was checked to stay there
      for (unsigned i = 0; i < 6; ++i) hart->x[kA0 + i] = a[i];
      hart->x[kA6] = fid;
      hart->x[kA7] = eid;
      hart->step();
      check(hart->priv == vessel::rv::Priv::kS);
      // A non-retentive suspend that succeeds resumes as from a start (SBI HSM): at
      // resume_addr (a1) with a0 = the hart id and a1 = opaque, not a return with an error.
      constexpr uint64_t kFidHartSuspend = 3, kNonRetentive = 0x80000000;
      if (eid == vessel::sbi::kHsm && fid == kFidHartSuspend &&
          (a[0] & 0xffffffff) == kNonRetentive && hart->pc != kRamBase + 4) {
        check(hart->pc == a[1] && hart->x[kA0] == 0 && hart->x[kA1] == a[2]);
        continue;
      }
      check(hart->pc == kRamBase + 4);
      error = static_cast<int64_t>(hart->x[kA0]);
      value = hart->x[kA1];
      if (eid <= 0x0F) continue;  // legacy calls return an extension-specific a0 only
    } else {
      const vessel::sbi::SbiRet r = sbi.call(*hart, eid, fid, a);
      error = r.error;
      value = r.value;
      if (eid == vessel::sbi::kLegacyConsoleGetchar && error == 0) check(value <= 0xff);
    }
    check(error <= 0 && error >= vessel::sbi::kErrAlreadyStopped);
    if (eid == vessel::sbi::kDbcn && fid <= 1 && error == 0) check(value <= a[0]);
    if (error != 0) check(value == 0);
  }
  check(resets <= 64);
  (void)written;
  return 0;
}
