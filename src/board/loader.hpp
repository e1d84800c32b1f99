// How guest images get into RAM, following what QEMU's riscv64 `virt` machine does: firmware
// (OpenSBI fw_dynamic/fw_jump, raw or ELF) at the start of RAM, the kernel (ELF, RISC-V Linux
// `Image`, gzip-compressed Image, or a raw blob) 2 MiB above it, the initrd further up, and the
// device tree near the top of RAM. plan_boot() decides the addresses and refuses overlaps
// before anything is written; the load_* functions then copy the files into the Bus's RAM.
//
// Every error is one line naming the file and the problem.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "bus/bus.hpp"

namespace vessel {

struct LoadedElf {
  uint64_t entry = 0;  // physical: e_entry translated through the segment holding it
  uint64_t low = 0;    // physical range [low, high) covered by the PT_LOAD segments
  uint64_t high = 0;
  std::optional<uint64_t> tohost;  // HTIF symbols from .symtab, physical
  std::optional<uint64_t> fromhost;
};

struct LoadedImage {
  uint64_t addr = 0;       // lowest physical address written
  uint64_t size = 0;       // bytes copied from the file (for the initrd: its exact length)
  uint64_t footprint = 0;  // bytes the image claims in RAM (an Image's image_size covers .bss)
  uint64_t entry = 0;
  std::optional<uint64_t> tohost;  // only for ELF files
  std::optional<uint64_t> fromhost;
};

// The RISC-V Linux boot image header (Documentation/arch/riscv/boot-image-header.rst).
struct LinuxImageHeader {
  uint64_t text_offset = 0;  // load offset from the start of RAM (2 MiB on RV64)
  uint64_t image_size = 0;   // bytes the kernel occupies once running, .bss included
  uint64_t flags = 0;
  uint32_t version = 0;
};

enum class ImageKind { kElf, kLinuxImage, kGzipLinuxImage, kGzipRaw, kRaw };
std::string_view image_kind_name(ImageKind kind);

// ---- Loading from files -------------------------------------------------------------------

// ELF64 little-endian EM_RISCV ET_EXEC; PT_LOAD segments go to p_paddr, the part of each
// segment beyond p_filesz is zeroed. Every segment must lie in one writable memory region.
Result<LoadedElf> load_elf(const std::string& path, Bus& bus);

// ELF -> load_elf; Image / gzip'ed Image -> at (start of the RAM region holding default_addr)
// + text_offset; anything else (also a gzip'ed non-Image) -> the raw bytes at default_addr.
Result<LoadedImage> load_kernel(const std::string& path, Bus& bus, uint64_t default_addr);

// ELF -> load_elf (its own addresses and entry); anything else -> raw bytes at addr, entry addr.
Result<LoadedImage> load_firmware(const std::string& path, Bus& bus, uint64_t addr);

// The file's bytes at addr (firmware .bin, initrd).
Result<LoadedImage> load_raw(const std::string& path, Bus& bus, uint64_t addr);

// ---- The same on bytes already in memory (tests and fuzz targets); `name` goes in errors ---

Result<LoadedElf> load_elf_bytes(std::span<const uint8_t> file, std::string_view name, Bus& bus);
Result<LoadedImage> load_kernel_bytes(std::span<const uint8_t> file, std::string_view name,
                                      Bus& bus, uint64_t default_addr);
Result<LoadedImage> load_raw_bytes(std::span<const uint8_t> file, std::string_view name, Bus& bus,
                                   uint64_t addr);

// nullopt if the bytes carry no Image magic; an error if they do but the header is unusable.
Result<std::optional<LinuxImageHeader>> parse_linux_image_header(std::span<const uint8_t> file,
                                                                 std::string_view name);

// gzip -> bytes, refusing to produce more than max_out bytes (the guest RAM size).
Result<std::vector<uint8_t>> gunzip(std::span<const uint8_t> file, std::string_view name,
                                    uint64_t max_out);

// ---- Planning ---------------------------------------------------------------------------

// What a file is and how much room it needs, read from its header only.
struct ImageProbe {
  ImageKind kind = ImageKind::kRaw;
  uint64_t file_size = 0;
  uint64_t footprint = 0;  // bytes it will occupy (Image: image_size; gzip: decompressed size)
  // kElf: the physical range and entry; kLinuxImage / kGzipLinuxImage: text_offset.
  uint64_t elf_low = 0, elf_high = 0, elf_entry = 0;
  uint64_t text_offset = 0;
};
// kRaw: every file is raw bytes (initrd); kFirmware: ELF or raw; kKernel: all kinds.
enum class ProbeAs { kRaw, kFirmware, kKernel };
Result<ImageProbe> probe_image(const std::string& path, ProbeAs as);
Result<ImageProbe> probe_image_bytes(std::span<const uint8_t> file, std::string_view name,
                                     ProbeAs as);

// fw_jump jumps to a fixed address and, in Debian's build of the generic platform, first copies
// the device tree to a fixed address too; fw_dynamic takes both from the reset vector.
enum class FirmwareKind { kAuto, kDynamic, kJump };

struct BootConfig {
  uint64_t ram_base = 0x80000000;
  uint64_t ram_size = 0;
  std::optional<std::string> firmware;               // OpenSBI fw_dynamic.bin / fw_jump.bin / ELF
  FirmwareKind firmware_kind = FirmwareKind::kAuto;  // kAuto: "fw_jump" in the file name
  std::optional<std::string> kernel;
  std::optional<std::string> initrd;
  uint64_t fdt_size = 0;  // bytes reserved for the device tree blob
  // --firmware builtin: no firmware occupies the bottom of RAM, but the kernel still starts in
  // S-mode, so a raw one goes where fw_jump would start it (ram_base + 2 MiB). S-mode loaders
  // such as U-Boot's qemu-riscv64_smode are linked to run there and are not relocatable.
  bool supervisor_payload = false;
};

struct PlacedImage {
  std::string path;
  ImageKind kind = ImageKind::kRaw;
  uint64_t addr = 0;  // lowest address
  uint64_t size = 0;  // bytes reserved from addr
  uint64_t entry = 0;
};

struct BootPlan {
  std::optional<PlacedImage> firmware;
  FirmwareKind firmware_kind = FirmwareKind::kDynamic;
  std::optional<PlacedImage> kernel;
  std::optional<PlacedImage> initrd;
  uint64_t fdt_addr = 0;
  uint64_t fdt_size = 0;
  uint64_t start_addr = 0;  // where the reset vector jumps (firmware, else the kernel)
  uint64_t next_addr = 0;   // what the firmware starts in S-mode (fw_dynamic's next_addr)
};

// QEMU virt's layout on RV64 (hw/riscv/boot.c):
//   firmware at ram_base (an ELF firmware where it was linked);
//   kernel at ram_base + text_offset for an Image, else the first 2 MiB boundary after the
//     firmware (0x80200000, fw_jump's FW_JUMP_ADDR for the generic platform), or after where
//     a firmware would be when supervisor_payload says the kernel starts in S-mode;
//   initrd at kernel + min(ram_size / 2, 512 MiB), or just below the FDT if it fits only there;
//   FDT at (ram end - fdt_size) aligned down to 2 MiB.
// Reads the files' headers; refuses overlaps and RAM that is too small.
Result<BootPlan> plan_boot(const BootConfig& config);

// Loads what plan_boot placed, checking that the files still match the plan.
struct LoadedBoot {
  std::optional<LoadedImage> firmware;
  std::optional<LoadedImage> kernel;
  std::optional<LoadedImage> initrd;
  std::optional<uint64_t> tohost;  // from whichever ELF defines it (firmware first)
  std::optional<uint64_t> fromhost;
};
Result<LoadedBoot> load_boot(const BootPlan& plan, Bus& bus);

// "64M", "1G", "1536K", or bytes: how people wrote the size on the command line.
std::string format_size(uint64_t bytes);

}  // namespace vessel
