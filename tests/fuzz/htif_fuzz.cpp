// libFuzzer target: HTIF commands against guest memory the input controls.
// Input: tohost selector (8 bytes), fromhost selector (8 bytes), initial RAM (up to 4 KiB),
// then a stream of 9-byte steps {flags, tohost command}. A selector or syscall-block pointer
// with bit 63 (selectors) / bit 47 (payload) clear is folded into RAM, so that most inputs
// reach the syscall handlers while the rest probe unmapped, ROM and straddling addresses.
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/bits.hpp"
#include "board/htif.hpp"

namespace {
constexpr uint64_t kRamBase = 0x80000000;
constexpr uint64_t kRamSize = 0x2000;

uint64_t take64(const uint8_t*& p, size_t& n) {
  uint8_t buf[8] = {};
  const size_t k = n < 8 ? n : 8;
  if (k != 0) std::memcpy(buf, p, k);
  p += k;
  n -= k;
  return vessel::load_le<uint64_t>(buf);
}

uint64_t select(uint64_t v) { return (v >> 63) != 0 ? v : kRamBase + (v % kRamSize); }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> ram(kRamSize), rom(0x100, 0x5A);
  vessel::Bus bus;
  if (!bus.add_memory({kRamBase, kRamSize, ram.data(), true, "ram"}).ok()) return 0;
  if (!bus.add_memory({0x1000, rom.size(), rom.data(), false, "rom"}).ok()) return 0;

  const uint8_t* p = data;
  size_t n = size;
  const uint64_t tohost = select(take64(p, n));
  const uint64_t fromhost_sel = take64(p, n);
  const uint64_t fromhost = fromhost_sel == 0 ? 0 : select(fromhost_sel);
  const size_t init = n < 4096 ? n : 4096;
  if (init != 0) std::memcpy(ram.data(), p, init);
  p += init;
  n -= init;

  size_t printed = 0;
  vessel::Htif htif(bus, tohost, fromhost, [&](uint8_t) { ++printed; });
  for (int step = 0; step < 64 && n > 0; ++step) {
    const uint8_t flags = *p++;
    --n;
    uint64_t cmd = take64(p, n);
    if ((cmd >> 56) == 0 && (cmd & (uint64_t{1} << 47)) == 0 && (cmd & 1) == 0) {
      cmd = (cmd & ~((uint64_t{1} << 48) - 1)) | select(cmd & ((uint64_t{1} << 47) - 1));
    }
    bus.write_phys(tohost, &cmd, sizeof cmd);
    if ((flags & 1) != 0 && fromhost != 0) {  // the guest consumes the last reply
      const uint64_t zero = 0;
      bus.write_phys(fromhost, &zero, sizeof zero);
    }
    if (htif.poll().has_value()) break;
  }
  (void)printed;
  return 0;
}
