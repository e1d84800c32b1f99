#include "board/boot_rom.hpp"

#include "base/bits.hpp"

namespace vessel {

std::vector<uint8_t> make_reset_vector(uint64_t start_addr, uint64_t fdt_addr,
                                       std::optional<FwDynamicInfo> info) {
  using namespace rvasm;
  auto off = [](uint64_t o) { return static_cast<int32_t>(o); };
  // Addresses are loaded from data next to the code, found PC-relatively, so the code runs
  // wherever the ROM is mapped and takes full 64-bit addresses.
  const uint32_t code[] = {
      auipc(t0, 0),  // t0 = address of this instruction
      info ? addi(a2, t0, off(kFwDynamicInfoOffset)) : addi(a2, zero, 0),
      csrr(a0, mhartid),
      ld(a1, t0, off(kFdtAddrOffset)),
      ld(t0, t0, off(kStartAddrOffset)),
      jalr(zero, t0, 0),
  };
  static_assert(sizeof code == kResetCodeSize);

  std::vector<uint8_t> rom(info ? kFwDynamicInfoOffset + kInfoSize : kFwDynamicInfoOffset);
  for (size_t i = 0; i < std::size(code); ++i) store_le<uint32_t>(&rom[4 * i], code[i]);
  store_le<uint64_t>(&rom[kStartAddrOffset], start_addr);
  store_le<uint64_t>(&rom[kFdtAddrOffset], fdt_addr);
  if (info) {
    uint8_t* s = &rom[kFwDynamicInfoOffset];
    store_le<uint64_t>(s + kInfoMagic, FwDynamicInfo::kMagic);
    store_le<uint64_t>(s + kInfoVersion, FwDynamicInfo::kVersion);
    store_le<uint64_t>(s + kInfoNextAddr, info->next_addr);
    store_le<uint64_t>(s + kInfoNextMode, info->next_mode);
    store_le<uint64_t>(s + kInfoOptions, info->options);
    store_le<uint64_t>(s + kInfoBootHart, info->boot_hart);
  }
  return rom;
}

}  // namespace vessel
