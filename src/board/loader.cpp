#include "board/loader.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/bits.hpp"

namespace vessel {

namespace {

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;
constexpr uint64_t GiB = 1024 * MiB;

// ELF64 (System V gABI and the RISC-V ELF psABI); field offsets, since the file is untrusted
// bytes read with load_le rather than a struct overlay.
namespace elf {
constexpr uint8_t ELFMAG[4] = {0x7f, 'E', 'L', 'F'};
constexpr unsigned EI_CLASS = 4, EI_DATA = 5;
constexpr uint8_t ELFCLASS64 = 2, ELFDATA2LSB = 1;
constexpr uint16_t ET_EXEC = 2, EM_RISCV = 243, PN_XNUM = 0xffff;
constexpr uint32_t PT_LOAD = 1, SHT_SYMTAB = 2;
constexpr uint64_t kEhdrSize = 64, kPhdrSize = 56, kShdrSize = 64, kSymSize = 24;
enum Ehdr : unsigned {
  e_type = 16,
  e_machine = 18,
  e_entry = 24,
  e_phoff = 32,
  e_shoff = 40,
  e_phentsize = 54,
  e_phnum = 56,
  e_shentsize = 58,
  e_shnum = 60,
};
enum Phdr : unsigned {
  p_type = 0,
  p_offset = 8,
  p_vaddr = 16,
  p_paddr = 24,
  p_filesz = 32,
  p_memsz = 40
};
enum Shdr : unsigned { sh_type = 4, sh_offset = 24, sh_size = 32, sh_link = 40, sh_entsize = 56 };
enum Sym : unsigned { st_name = 0, st_value = 8 };
}  // namespace elf

// RISC-V Linux Image header (Documentation/arch/riscv/boot-image-header.rst).
namespace image {
constexpr uint64_t kHeaderSize = 64;
enum Field : unsigned {
  text_offset = 0x08,
  image_size = 0x10,
  flags = 0x18,
  version = 0x20,
  magic = 0x30,
  magic2 = 0x38
};
constexpr uint8_t kMagic[8] = {'R', 'I', 'S', 'C', 'V', 0, 0, 0};  // deprecated since 0.2
constexpr uint8_t kMagic2[4] = {'R', 'S', 'C', 0x05};
constexpr uint64_t kFlagBigEndian = 1;
}  // namespace image

constexpr uint8_t kGzipMagic[2] = {0x1f, 0x8b};

// OpenSBI generic platform (platform/generic/objects.mk), RV64: FW_JUMP_OFFSET and
// FW_JUMP_FDT_OFFSET from the firmware's start. QEMU's own rule (align the firmware end up to
// 2 MiB) gives the same kernel address for any firmware under 2 MiB.
constexpr uint64_t kFwJumpOffset = 0x200000;
constexpr uint64_t kFwJumpFdtOffset = 0x2200000;
constexpr uint64_t kKernelAlign = 2 * MiB;  // RV64 kernels run from a PMD-aligned address
constexpr uint64_t kFdtAlign = 2 * MiB;
constexpr uint64_t kInitrdMaxOffset = 512 * MiB;

bool has_prefix(std::span<const uint8_t> b, const uint8_t* magic, size_t n, size_t at = 0) {
  return b.size() >= at + n && std::memcmp(b.data() + at, magic, n) == 0;
}
bool is_elf(std::span<const uint8_t> b) { return has_prefix(b, elf::ELFMAG, 4); }
bool is_gzip(std::span<const uint8_t> b) { return has_prefix(b, kGzipMagic, 2); }

template <typename T>
T field(std::span<const uint8_t> b, uint64_t off) {
  return load_le<T>(b.data() + off);
}

// Read-only view of a whole file, mapped so that a large vmlinux costs only the pages read.
class FileBytes {
 public:
  static Result<FileBytes> open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return make_error(fmt::format("{}: no such file", path));
      return make_error(fmt::format("{}: cannot open ({})", path, std::strerror(errno)));
    }
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return make_error(fmt::format("{}: is not a regular file", path));
    }
    if (st.st_size == 0) {
      ::close(fd);
      return make_error(fmt::format("{}: is empty", path));
    }
    const auto size = static_cast<size_t>(st.st_size);
    void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int err = errno;
    ::close(fd);
    if (p == MAP_FAILED) {
      return make_error(fmt::format("{}: cannot read ({})", path, std::strerror(err)));
    }
    FileBytes f;
    f.data_ = static_cast<const uint8_t*>(p);
    f.size_ = size;
    return f;
  }
  FileBytes() = default;
  FileBytes(FileBytes&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(o.size_) {}
  FileBytes& operator=(FileBytes&&) = delete;
  ~FileBytes() {
    if (data_ != nullptr) munmap(const_cast<uint8_t*>(data_), size_);
  }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

struct Segment {
  uint64_t offset, vaddr, paddr, filesz, memsz;
};

struct ParsedElf {
  uint64_t entry = 0, low = 0, high = 0;
  std::vector<Segment> segments;
  std::optional<uint64_t> tohost, fromhost;
};

// A virtual address (e_entry, st_value) as a physical one, through the segment holding it.
uint64_t to_physical(const std::vector<Segment>& segs, uint64_t vaddr) {
  for (const auto& s : segs) {
    if (vaddr >= s.vaddr && vaddr - s.vaddr < s.memsz) return s.paddr + (vaddr - s.vaddr);
  }
  return vaddr;
}

Error truncated(std::string_view name, uint64_t have, std::string_view what, uint64_t need) {
  return make_error(fmt::format("{}: truncated ({} bytes, {} needs {})", name, have, what, need));
}

Result<void> parse_symbols(std::span<const uint8_t> b, std::string_view name, ParsedElf& out) {
  const uint64_t shoff = field<uint64_t>(b, elf::e_shoff);
  const uint64_t shnum = field<uint16_t>(b, elf::e_shnum);
  const uint64_t shentsize = field<uint16_t>(b, elf::e_shentsize);
  if (shoff == 0 || shnum == 0) return {};  // stripped
  if (shentsize < elf::kShdrSize) {
    return make_error(fmt::format("{}: bad ELF section header size {}", name, shentsize));
  }
  if (!range_within(shoff, shnum * shentsize, b.size())) {
    return truncated(name, b.size(), "section headers", shoff + shnum * shentsize);
  }
  auto shdr = [&](uint64_t i) { return b.subspan(shoff + i * shentsize, elf::kShdrSize); };
  for (uint64_t i = 0; i < shnum; ++i) {
    const auto sh = shdr(i);
    if (field<uint32_t>(sh, elf::sh_type) != elf::SHT_SYMTAB) continue;
    const uint64_t off = field<uint64_t>(sh, elf::sh_offset);
    const uint64_t size = field<uint64_t>(sh, elf::sh_size);
    const uint64_t entsize = field<uint64_t>(sh, elf::sh_entsize);
    const uint32_t link = field<uint32_t>(sh, elf::sh_link);
    if (entsize != 0 && entsize < elf::kSymSize) {
      return make_error(fmt::format("{}: bad .symtab entry size {}", name, entsize));
    }
    if (link >= shnum) return make_error(fmt::format("{}: .symtab has no string table", name));
    const auto strsh = shdr(link);
    const uint64_t stroff = field<uint64_t>(strsh, elf::sh_offset);
    const uint64_t strsize = field<uint64_t>(strsh, elf::sh_size);
    if (!range_within(off, size, b.size())) return truncated(name, b.size(), ".symtab", off + size);
    if (!range_within(stroff, strsize, b.size())) {
      return truncated(name, b.size(), ".strtab", stroff + strsize);
    }
    const uint64_t step = entsize == 0 ? elf::kSymSize : entsize;
    const auto strtab = b.subspan(stroff, strsize);
    for (uint64_t k = 0; k < size / step; ++k) {
      const uint64_t at = k * step;  // <= size: cannot wrap
      if (size - at < elf::kSymSize) break;
      const auto sym = b.subspan(off + at, elf::kSymSize);
      const uint32_t n = field<uint32_t>(sym, elf::st_name);
      if (n >= strtab.size()) continue;
      const auto* s = reinterpret_cast<const char*>(strtab.data() + n);
      const size_t max = strtab.size() - n;
      const std::string_view sym_name(s, strnlen(s, max));
      if (sym_name.size() == max) continue;  // not NUL-terminated inside .strtab
      const uint64_t value = to_physical(out.segments, field<uint64_t>(sym, elf::st_value));
      if (sym_name == "tohost") out.tohost = value;
      if (sym_name == "fromhost") out.fromhost = value;
    }
    break;  // ELF allows one SHT_SYMTAB
  }
  return {};
}

Result<ParsedElf> parse_elf(std::span<const uint8_t> b, std::string_view name) {
  if (!is_elf(b)) return make_error(fmt::format("{}: wrong format (not an ELF file)", name));
  if (b.size() < elf::kEhdrSize) return truncated(name, b.size(), "ELF header", elf::kEhdrSize);
  if (b[elf::EI_CLASS] != elf::ELFCLASS64) {
    return make_error(fmt::format("{}: wrong format (not ELF64)", name));
  }
  if (b[elf::EI_DATA] != elf::ELFDATA2LSB) {
    return make_error(fmt::format("{}: wrong format (big-endian ELF)", name));
  }
  const uint16_t machine = field<uint16_t>(b, elf::e_machine);
  if (machine != elf::EM_RISCV) {
    return make_error(fmt::format("{}: wrong machine (ELF e_machine {}, RISC-V is {})", name,
                                  machine, elf::EM_RISCV));
  }
  const uint16_t type = field<uint16_t>(b, elf::e_type);
  if (type != elf::ET_EXEC) {
    return make_error(fmt::format("{}: wrong format (ELF e_type {}, need ET_EXEC)", name, type));
  }
  const uint64_t phoff = field<uint64_t>(b, elf::e_phoff);
  const uint64_t phnum = field<uint16_t>(b, elf::e_phnum);
  const uint64_t phentsize = field<uint16_t>(b, elf::e_phentsize);
  if (phnum == 0 || phnum == elf::PN_XNUM) {
    return make_error(fmt::format("{}: wrong format ({} program headers)", name, phnum));
  }
  if (phentsize < elf::kPhdrSize) {
    return make_error(fmt::format("{}: bad ELF program header size {}", name, phentsize));
  }
  if (!range_within(phoff, phnum * phentsize, b.size())) {
    return truncated(name, b.size(), "program headers", phoff + phnum * phentsize);
  }

  ParsedElf out;
  for (uint64_t i = 0; i < phnum; ++i) {
    const auto ph = b.subspan(phoff + i * phentsize, elf::kPhdrSize);
    if (field<uint32_t>(ph, elf::p_type) != elf::PT_LOAD) continue;
    Segment s{field<uint64_t>(ph, elf::p_offset), field<uint64_t>(ph, elf::p_vaddr),
              field<uint64_t>(ph, elf::p_paddr), field<uint64_t>(ph, elf::p_filesz),
              field<uint64_t>(ph, elf::p_memsz)};
    if (s.memsz == 0) continue;
    if (s.filesz > s.memsz) {
      return make_error(fmt::format("{}: segment {} has file size {:#x} > memory size {:#x}", name,
                                    i, s.filesz, s.memsz));
    }
    if (!range_within(s.offset, s.filesz, b.size())) {
      return truncated(name, b.size(), fmt::format("segment {}", i), s.offset + s.filesz);
    }
    if (s.paddr + s.memsz < s.paddr) {
      return make_error(fmt::format("{}: segment {} wraps around the address space", name, i));
    }
    out.segments.push_back(s);
  }
  if (out.segments.empty()) return make_error(fmt::format("{}: has no loadable segments", name));

  auto sorted = out.segments;
  std::sort(sorted.begin(), sorted.end(), [](auto& x, auto& y) { return x.paddr < y.paddr; });
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i].paddr < sorted[i - 1].paddr + sorted[i - 1].memsz) {
      return make_error(fmt::format("{}: overlaps itself (segments at {:#x} and {:#x})", name,
                                    sorted[i - 1].paddr, sorted[i].paddr));
    }
  }
  out.low = sorted.front().paddr;
  out.high = sorted.back().paddr + sorted.back().memsz;
  out.entry = to_physical(out.segments, field<uint64_t>(b, elf::e_entry));
  TRY_VOID(parse_symbols(b, name, out));
  return out;
}

Error no_fit(std::string_view name, uint64_t addr, uint64_t len) {
  return make_error(fmt::format("{}: does not fit in guest memory at {:#x}-{:#x} ({} bytes)", name,
                                addr, addr + len, len));
}

// Host pointer for a writable guest range, or nullptr (no RAM there, or ROM).
uint8_t* writable(const Bus& bus, uint64_t addr, uint64_t len) {
  const MemoryRegion* r = bus.find_memory(addr, len);
  if (r == nullptr || !r->writable) return nullptr;
  return r->host + (addr - r->base);
}

Result<LoadedImage> place_image(std::span<const uint8_t> b, std::string_view name, Bus& bus,
                                uint64_t addr, uint64_t footprint) {
  if (addr + footprint < addr) return no_fit(name, addr, footprint);
  uint8_t* dst = writable(bus, addr, footprint);
  if (dst == nullptr) return no_fit(name, addr, footprint);
  if (!b.empty()) std::memcpy(dst, b.data(), b.size());
  return LoadedImage{addr, b.size(), footprint, addr, std::nullopt, std::nullopt};
}

const MemoryRegion* ram_at(const Bus& bus, uint64_t addr) {
  const MemoryRegion* r = bus.find_memory(addr);
  return r != nullptr && r->writable ? r : nullptr;
}

// PE/COFF, as far as the EFI stub of an Image goes (Microsoft PE Format: COFF File Header and
// Section Table; e_lfanew is the Image header's res3 field).
namespace pe {
constexpr uint8_t kMzMagic[2] = {'M', 'Z'};
constexpr uint8_t kPeMagic[4] = {'P', 'E', 0, 0};
constexpr unsigned e_lfanew = 0x3c;
constexpr uint64_t kCoffHeaderSize = 20, kSectionHeaderSize = 40;
enum Coff : unsigned { NumberOfSections = 2, SizeOfOptionalHeader = 16 };
enum Section : unsigned { SizeOfRawData = 16, PointerToRawData = 20 };
}  // namespace pe

// Linux's Image header has no file size, but an Image with an EFI stub (every distribution
// kernel) is also a PE file whose section table says where the file ends: a shorter file was
// cut short, and booting it would only crash the guest.
Result<void> check_image_length(std::span<const uint8_t> b, std::string_view name) {
  if (b.size() < image::kHeaderSize || !has_prefix(b, pe::kMzMagic, 2)) return {};
  const uint64_t pe_at = field<uint32_t>(b, pe::e_lfanew);
  if (!has_prefix(b, pe::kPeMagic, 4, pe_at)) return {};
  const uint64_t coff = pe_at + sizeof pe::kPeMagic;
  if (!range_within(coff, pe::kCoffHeaderSize, b.size())) {
    return truncated(name, b.size(), "PE header", coff + pe::kCoffHeaderSize);
  }
  const uint64_t sections = field<uint16_t>(b, coff + pe::NumberOfSections);
  const uint64_t table =
      coff + pe::kCoffHeaderSize + field<uint16_t>(b, coff + pe::SizeOfOptionalHeader);
  if (!range_within(table, sections * pe::kSectionHeaderSize, b.size())) {
    return truncated(name, b.size(), "PE section table", table + sections * pe::kSectionHeaderSize);
  }
  uint64_t end = 0;
  for (uint64_t i = 0; i < sections; ++i) {
    const uint64_t sh = table + i * pe::kSectionHeaderSize;
    end = std::max(end, uint64_t{field<uint32_t>(b, sh + pe::PointerToRawData)} +
                            field<uint32_t>(b, sh + pe::SizeOfRawData));
  }
  if (end > b.size()) {
    return make_error(
        fmt::format("{}: truncated ({} bytes, its PE section table says {})", name, b.size(), end));
  }
  return {};
}

Result<LoadedImage> load_linux_image(std::span<const uint8_t> b, std::string_view name,
                                     const LinuxImageHeader& h, Bus& bus, uint64_t default_addr) {
  TRY_VOID(check_image_length(b, name));
  const MemoryRegion* ram = ram_at(bus, default_addr);
  if (ram == nullptr) return no_fit(name, default_addr, b.size());
  const uint64_t addr = h.text_offset != 0 ? ram->base + h.text_offset : default_addr;
  return place_image(b, name, bus, addr, std::max<uint64_t>(h.image_size, b.size()));
}

LoadedImage from_elf(const LoadedElf& e) {
  return LoadedImage{e.low, e.high - e.low, e.high - e.low, e.entry, e.tohost, e.fromhost};
}

}  // namespace

std::string_view image_kind_name(ImageKind kind) {
  switch (kind) {
    case ImageKind::kElf: return "ELF";
    case ImageKind::kLinuxImage: return "Image";
    case ImageKind::kGzipLinuxImage: return "Image.gz";
    case ImageKind::kGzipRaw: return "gzip";
    case ImageKind::kRaw: return "raw";
  }
  return "?";
}

std::string format_size(uint64_t bytes) {
  if (bytes != 0 && bytes % GiB == 0) return fmt::format("{}G", bytes / GiB);
  if (bytes != 0 && bytes % MiB == 0) return fmt::format("{}M", bytes / MiB);
  if (bytes != 0 && bytes % KiB == 0) return fmt::format("{}K", bytes / KiB);
  return fmt::format("{} bytes", bytes);
}

Result<std::optional<LinuxImageHeader>> parse_linux_image_header(std::span<const uint8_t> b,
                                                                 std::string_view name) {
  if (b.size() < image::kHeaderSize) {
    // A magic that made it into the file means an Image whose header was cut short.
    if (has_prefix(b, image::kMagic2, 4, image::magic2) ||
        has_prefix(b, image::kMagic, 8, image::magic)) {
      return truncated(name, b.size(), "Image header", image::kHeaderSize);
    }
    return std::optional<LinuxImageHeader>{};
  }
  if (!has_prefix(b, image::kMagic2, 4, image::magic2) &&
      !has_prefix(b, image::kMagic, 8, image::magic)) {
    return std::optional<LinuxImageHeader>{};
  }
  LinuxImageHeader h;
  h.text_offset = field<uint64_t>(b, image::text_offset);
  h.image_size = field<uint64_t>(b, image::image_size);
  h.flags = field<uint64_t>(b, image::flags);
  h.version = field<uint32_t>(b, image::version);
  if ((h.flags & image::kFlagBigEndian) != 0) {
    return make_error(fmt::format("{}: wrong format (big-endian Image)", name));
  }
  if (h.text_offset + h.image_size < h.text_offset) {
    return make_error(fmt::format("{}: bad Image header (text_offset {:#x}, image_size {:#x})",
                                  name, h.text_offset, h.image_size));
  }
  return std::optional<LinuxImageHeader>{h};
}

Result<std::vector<uint8_t>> gunzip(std::span<const uint8_t> b, std::string_view name,
                                    uint64_t max_out) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {  // 16: gzip wrapper only
    return make_error(fmt::format("{}: cannot start gzip decompression", name));
  }
  std::vector<uint8_t> out;
  std::vector<uint8_t> chunk(256 * KiB);
  size_t in_pos = 0;
  auto fail = [&](std::string message) -> Result<std::vector<uint8_t>> {
    inflateEnd(&z);
    return make_error(std::move(message));
  };
  for (;;) {
    if (z.avail_in == 0 && in_pos < b.size()) {
      const size_t n = std::min<size_t>(b.size() - in_pos, UINT32_MAX);
      z.next_in = const_cast<Bytef*>(b.data() + in_pos);
      z.avail_in = static_cast<uInt>(n);
      in_pos += n;
    }
    z.next_out = chunk.data();
    z.avail_out = static_cast<uInt>(chunk.size());
    const int rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      return fail(fmt::format("{}: wrong format (bad gzip data: {})", name,
                              z.msg != nullptr ? z.msg : "corrupt stream"));
    }
    const size_t produced = chunk.size() - z.avail_out;
    if (produced > max_out - std::min<uint64_t>(max_out, out.size())) {
      return fail(fmt::format("{}: decompresses to more than the {} of guest RAM", name,
                              format_size(max_out)));
    }
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<ptrdiff_t>(produced));
    if (rc == Z_STREAM_END) break;
    // No progress with a fresh output buffer: the input ran out before the stream's end.
    if (rc == Z_BUF_ERROR && z.avail_in == 0 && in_pos == b.size()) {
      return fail(fmt::format("{}: truncated ({} bytes, gzip stream ends early)", name, b.size()));
    }
  }
  inflateEnd(&z);
  return out;
}

// ---- Loading ------------------------------------------------------------------------------

Result<LoadedElf> load_elf_bytes(std::span<const uint8_t> b, std::string_view name, Bus& bus) {
  const ParsedElf p = TRY(parse_elf(b, name));
  for (const auto& s : p.segments) {  // check all before writing any
    if (writable(bus, s.paddr, s.memsz) == nullptr) return no_fit(name, s.paddr, s.memsz);
  }
  for (const auto& s : p.segments) {
    uint8_t* dst = writable(bus, s.paddr, s.memsz);
    std::memcpy(dst, b.data() + s.offset, s.filesz);
    std::memset(dst + s.filesz, 0, s.memsz - s.filesz);
  }
  return LoadedElf{p.entry, p.low, p.high, p.tohost, p.fromhost};
}

Result<LoadedImage> load_raw_bytes(std::span<const uint8_t> b, std::string_view name, Bus& bus,
                                   uint64_t addr) {
  return place_image(b, name, bus, addr, b.size());
}

Result<LoadedImage> load_kernel_bytes(std::span<const uint8_t> b, std::string_view name, Bus& bus,
                                      uint64_t default_addr) {
  if (is_elf(b)) return from_elf(TRY(load_elf_bytes(b, name, bus)));
  if (is_gzip(b)) {
    const MemoryRegion* ram = ram_at(bus, default_addr);
    if (ram == nullptr) return no_fit(name, default_addr, b.size());
    const std::vector<uint8_t> data = TRY(gunzip(b, name, ram->size));
    const auto h = TRY(parse_linux_image_header(data, name));
    if (h) return load_linux_image(data, name, *h, bus, default_addr);
    return load_raw_bytes(data, name, bus, default_addr);
  }
  const auto h = TRY(parse_linux_image_header(b, name));
  if (h) return load_linux_image(b, name, *h, bus, default_addr);
  return load_raw_bytes(b, name, bus, default_addr);
}

Result<LoadedElf> load_elf(const std::string& path, Bus& bus) {
  const FileBytes f = TRY(FileBytes::open(path));
  return load_elf_bytes(f.bytes(), path, bus);
}

Result<LoadedImage> load_kernel(const std::string& path, Bus& bus, uint64_t default_addr) {
  const FileBytes f = TRY(FileBytes::open(path));
  return load_kernel_bytes(f.bytes(), path, bus, default_addr);
}

Result<LoadedImage> load_firmware(const std::string& path, Bus& bus, uint64_t addr) {
  const FileBytes f = TRY(FileBytes::open(path));
  if (is_elf(f.bytes())) return from_elf(TRY(load_elf_bytes(f.bytes(), path, bus)));
  return load_raw_bytes(f.bytes(), path, bus, addr);
}

Result<LoadedImage> load_raw(const std::string& path, Bus& bus, uint64_t addr) {
  const FileBytes f = TRY(FileBytes::open(path));
  return load_raw_bytes(f.bytes(), path, bus, addr);
}

// ---- Planning -----------------------------------------------------------------------------

Result<ImageProbe> probe_image_bytes(std::span<const uint8_t> b, std::string_view name,
                                     ProbeAs as) {
  ImageProbe p;
  p.file_size = b.size();
  p.footprint = b.size();
  if (as == ProbeAs::kRaw) return p;
  if (is_elf(b)) {
    const ParsedElf e = TRY(parse_elf(b, name));
    p.kind = ImageKind::kElf;
    p.elf_low = e.low;
    p.elf_high = e.high;
    p.elf_entry = e.entry;
    p.footprint = e.high - e.low;
    return p;
  }
  if (as == ProbeAs::kFirmware) return p;
  std::span<const uint8_t> head = b;
  std::vector<uint8_t> inflated;
  if (is_gzip(b)) {
    // Only the Image header is needed here; the size for a non-Image is gzip's ISIZE trailer.
    p.kind = ImageKind::kGzipRaw;
    p.footprint = b.size() >= 18 ? load_le<uint32_t>(b.data() + b.size() - 4) : 0;
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
      return make_error(fmt::format("{}: cannot start gzip decompression", name));
    }
    inflated.resize(image::kHeaderSize);
    z.next_in = const_cast<Bytef*>(b.data());
    z.avail_in = static_cast<uInt>(std::min<size_t>(b.size(), UINT32_MAX));
    z.next_out = inflated.data();
    z.avail_out = static_cast<uInt>(inflated.size());
    const int rc = inflate(&z, Z_SYNC_FLUSH);
    inflated.resize(inflated.size() - z.avail_out);
    inflateEnd(&z);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      return make_error(fmt::format("{}: wrong format (bad gzip data)", name));
    }
    head = inflated;
  }
  const auto h = TRY(parse_linux_image_header(head, name));
  if (h) {
    if (!is_gzip(b)) TRY_VOID(check_image_length(b, name));  // an Image.gz: when inflated
    p.kind = is_gzip(b) ? ImageKind::kGzipLinuxImage : ImageKind::kLinuxImage;
    p.text_offset = h->text_offset;
    p.footprint = std::max(h->image_size, p.footprint);
  }
  return p;
}

Result<ImageProbe> probe_image(const std::string& path, ProbeAs as) {
  const FileBytes f = TRY(FileBytes::open(path));
  return probe_image_bytes(f.bytes(), path, as);
}

namespace {

std::string base_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

struct Claim {
  std::string label;
  uint64_t lo, hi;
  bool fixed_high;  // placed from the top of RAM: running into it means RAM is too small
};

std::string describe(const Claim& c) {
  return fmt::format("{} ({:#x}-{:#x})", c.label, c.lo, c.hi);
}

class Planner {
 public:
  explicit Planner(const BootConfig& c) : cfg_(c), ram_end_(c.ram_base + c.ram_size) {}

  std::string too_small() const {
    return fmt::format("memory {} is too small", format_size(cfg_.ram_size));
  }

  Result<void> claim(Claim c) {
    if (c.hi < c.lo || c.lo < cfg_.ram_base || c.hi > ram_end_) {
      if (c.lo >= cfg_.ram_base) {
        return make_error(fmt::format("{}: {} needs {:#x}-{:#x}, RAM ends at {:#x}", too_small(),
                                      c.label, c.lo, c.hi, ram_end_));
      }
      return make_error(
          fmt::format("{} lies outside RAM ({:#x}-{:#x})", describe(c), cfg_.ram_base, ram_end_));
    }
    for (const auto& o : claims_) {
      if (c.lo < o.hi && o.lo < c.hi) {
        if (o.fixed_high || c.fixed_high) {
          return make_error(
              fmt::format("{}: {} overlaps {}", too_small(), describe(c), describe(o)));
        }
        return make_error(fmt::format("{} overlaps {}", describe(c), describe(o)));
      }
    }
    claims_.push_back(std::move(c));
    return {};
  }

  bool is_free(uint64_t lo, uint64_t hi) const {
    if (lo < cfg_.ram_base || hi > ram_end_ || hi < lo) return false;
    return std::none_of(claims_.begin(), claims_.end(),
                        [&](const Claim& o) { return lo < o.hi && o.lo < hi; });
  }

  uint64_t ram_end() const { return ram_end_; }

 private:
  const BootConfig& cfg_;
  uint64_t ram_end_;
  std::vector<Claim> claims_;
};

}  // namespace

Result<BootPlan> plan_boot(const BootConfig& cfg) {
  if (cfg.ram_size == 0 || cfg.ram_base + cfg.ram_size < cfg.ram_base) {
    return make_error(
        fmt::format("memory {} is not usable at {:#x}", format_size(cfg.ram_size), cfg.ram_base));
  }
  if (!cfg.firmware && !cfg.kernel) return make_error("nothing to boot: no firmware and no kernel");
  if (cfg.initrd && !cfg.kernel) return make_error("an initrd needs a kernel");
  if (cfg.fdt_size == 0) return make_error("device tree size not given");

  Planner pl(cfg);
  BootPlan plan;
  plan.fdt_size = cfg.fdt_size;

  // The device tree first: everything else must stay below it.
  if (cfg.fdt_size > cfg.ram_size) {
    return make_error(
        fmt::format("{}: the device tree alone needs {} bytes", pl.too_small(), cfg.fdt_size));
  }
  plan.fdt_addr = align_down(pl.ram_end() - cfg.fdt_size, kFdtAlign);
  if (plan.fdt_addr < cfg.ram_base) plan.fdt_addr = cfg.ram_base;
  TRY_VOID(pl.claim({"device tree", plan.fdt_addr, plan.fdt_addr + cfg.fdt_size, true}));

  uint64_t firmware_end = cfg.ram_base;
  if (cfg.firmware) {
    const ImageProbe p = TRY(probe_image(*cfg.firmware, ProbeAs::kFirmware));
    PlacedImage fw{*cfg.firmware, p.kind, cfg.ram_base, p.file_size, cfg.ram_base};
    if (p.kind == ImageKind::kElf) {
      fw.addr = p.elf_low;
      fw.size = p.footprint;
      fw.entry = p.elf_entry;
    }
    TRY_VOID(pl.claim({"firmware", fw.addr, fw.addr + fw.size, false}));
    firmware_end = fw.addr + fw.size;
    plan.firmware_kind = cfg.firmware_kind;
    if (plan.firmware_kind == FirmwareKind::kAuto) {
      plan.firmware_kind = base_name(fw.path).find("fw_jump") != std::string::npos
                               ? FirmwareKind::kJump
                               : FirmwareKind::kDynamic;
    }
    if (plan.firmware_kind == FirmwareKind::kJump) {
      // fw_jump copies the device tree here before starting the kernel (FW_JUMP_FDT_ADDR).
      const uint64_t copy = fw.addr + kFwJumpFdtOffset;
      TRY_VOID(pl.claim({"fw_jump's device tree copy", copy, copy + cfg.fdt_size, false}));
    }
    plan.start_addr = fw.entry;
    plan.firmware = std::move(fw);
  } else {
    plan.firmware_kind = FirmwareKind::kDynamic;
    if (cfg.supervisor_payload) firmware_end = cfg.ram_base + kFwJumpOffset;
  }

  if (cfg.kernel) {
    const ImageProbe p = TRY(probe_image(*cfg.kernel, ProbeAs::kKernel));
    PlacedImage k{*cfg.kernel, p.kind, align_up(firmware_end, kKernelAlign), p.footprint, 0};
    if (p.kind == ImageKind::kElf) {
      k.addr = p.elf_low;
    } else if ((p.kind == ImageKind::kLinuxImage || p.kind == ImageKind::kGzipLinuxImage) &&
               p.text_offset != 0) {
      k.addr = cfg.ram_base + p.text_offset;
    }
    k.entry = p.kind == ImageKind::kElf ? p.elf_entry : k.addr;
    if (plan.firmware && plan.firmware_kind == FirmwareKind::kJump &&
        k.addr != plan.firmware->addr + kFwJumpOffset) {
      return make_error(fmt::format("{}: fw_jump jumps to {:#x} but the kernel is at {:#x}",
                                    plan.firmware->path, plan.firmware->addr + kFwJumpOffset,
                                    k.addr));
    }
    const std::string label = k.kind == ImageKind::kRaw || k.kind == ImageKind::kGzipRaw
                                  ? "kernel"
                                  : fmt::format("kernel {}", image_kind_name(k.kind));
    TRY_VOID(pl.claim({label, k.addr, k.addr + k.size, false}));
    // As QEMU: fw_dynamic starts the kernel at its lowest address, like fw_jump would.
    plan.next_addr = k.addr;
    if (!plan.firmware) plan.start_addr = k.entry;
    plan.kernel = std::move(k);
  }

  if (cfg.initrd) {
    const ImageProbe p = TRY(probe_image(*cfg.initrd, ProbeAs::kRaw));
    const PlacedImage& k = *plan.kernel;
    // QEMU's spot leaves room for the kernel to grow; failing that, right below the FDT.
    uint64_t lo = k.addr + std::min(cfg.ram_size / 2, kInitrdMaxOffset);
    if (!pl.is_free(lo, lo + p.file_size) && plan.fdt_addr >= p.file_size) {
      const uint64_t high = align_down(plan.fdt_addr - p.file_size, 4 * KiB);
      if (pl.is_free(high, high + p.file_size)) lo = high;
    }
    TRY_VOID(pl.claim({"initrd", lo, lo + p.file_size, false}));
    plan.initrd = PlacedImage{*cfg.initrd, ImageKind::kRaw, lo, p.file_size, lo};
  }
  return plan;
}

Result<LoadedBoot> load_boot(const BootPlan& plan, Bus& bus) {
  LoadedBoot out;
  auto check = [](const PlacedImage& want, const LoadedImage& got) -> Result<void> {
    if (got.addr != want.addr || got.footprint > want.size) {
      return make_error(
          fmt::format("{}: changed since it was read (now {:#x}+{:#x}, planned "
                      "{:#x}+{:#x})",
                      want.path, got.addr, got.footprint, want.addr, want.size));
    }
    return {};
  };
  if (plan.firmware) {
    out.firmware = TRY(load_firmware(plan.firmware->path, bus, plan.firmware->addr));
    TRY_VOID(check(*plan.firmware, *out.firmware));
  }
  if (plan.kernel) {
    out.kernel = TRY(load_kernel(plan.kernel->path, bus, plan.kernel->addr));
    TRY_VOID(check(*plan.kernel, *out.kernel));
  }
  if (plan.initrd) {
    out.initrd = TRY(load_raw(plan.initrd->path, bus, plan.initrd->addr));
    TRY_VOID(check(*plan.initrd, *out.initrd));
  }
  for (const auto* img : {&out.firmware, &out.kernel}) {
    if (*img && (*img)->tohost && !out.tohost) {
      out.tohost = (*img)->tohost;
      out.fromhost = (*img)->fromhost;
    }
  }
  return out;
}

}  // namespace vessel
