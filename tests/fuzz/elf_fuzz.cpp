// libFuzzer target: the image parsers (ELF, Linux Image header, gzip, probe) on arbitrary
// bytes, loading into 1 MiB of RAM next to a read-only ROM.
#include <cstdint>
#include <span>
#include <vector>

#include "board/boot_rom.hpp"
#include "board/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr uint64_t kRamBase = 0x80000000;
  static std::vector<uint8_t> ram(1 << 20), rom(0x1000);
  vessel::Bus bus;
  if (!bus.add_memory({kRamBase, ram.size(), ram.data(), true, "ram"}).ok()) return 0;
  if (!bus.add_memory({vessel::kBootRomBase, rom.size(), rom.data(), false, "rom"}).ok()) return 0;

  const std::span<const uint8_t> in(data, size);
  (void)vessel::load_elf_bytes(in, "fuzz.elf", bus);
  (void)vessel::load_kernel_bytes(in, "fuzz.img", bus, kRamBase);
  (void)vessel::load_kernel_bytes(in, "fuzz.img", bus, kRamBase + (size % ram.size()));
  (void)vessel::probe_image_bytes(in, "fuzz.img", vessel::ProbeAs::kKernel);
  (void)vessel::probe_image_bytes(in, "fuzz.img", vessel::ProbeAs::kFirmware);
  return 0;
}
