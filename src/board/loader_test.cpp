#include "board/loader.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/bits.hpp"
#include "base/mapped_memory.hpp"
#include "board/boot_rom.hpp"

namespace vessel {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

constexpr uint64_t kRamBase = 0x80000000;
constexpr uint64_t MiB = 1 << 20;

// ---- Test fixtures: a Bus with RAM and ROM, files in a temporary directory ----------------

struct TestBus {
  explicit TestBus(uint64_t ram_size = 1 * MiB) {
    auto mem = MappedMemory::allocate(ram_size);
    EXPECT_TRUE(mem.ok());
    ram = std::move(mem.value());
    std::memset(ram.data(), 0xAA, ram.size());  // so that zeroed .bss is visible
    EXPECT_TRUE(bus.add_memory({kRamBase, ram_size, ram.data(), true, "ram"}).ok());
    EXPECT_TRUE(bus.add_memory({kBootRomBase, rom.size(), rom.data(), false, "rom"}).ok());
  }
  const uint8_t* at(uint64_t addr) const { return ram.data() + (addr - kRamBase); }
  MappedMemory ram;
  Bytes rom = Bytes(0x1000);
  Bus bus;
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "vessel-loader-XXXXXX").string();
    EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  ~TempDir() { fs::remove_all(dir_); }
  std::string write(const std::string& name, const Bytes& data) const {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(data.data()),
               static_cast<std::streamsize>(data.size()));
    return p;
  }
  // A file of `size` bytes beginning with `head`, sparse beyond it (for planner sizes).
  std::string write_sized(const std::string& name, const Bytes& head, uint64_t size) const {
    const std::string p = write(name, head);
    fs::resize_file(p, size);
    return p;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  fs::path dir_;
};

// ---- A tiny ELF64 writer -----------------------------------------------------------------

struct ElfSpec {
  uint8_t elf_class = 2, data = 1;
  uint16_t type = 2, machine = 243;
  uint64_t entry = kRamBase;
  struct Seg {
    uint64_t vaddr, paddr;
    Bytes bytes;
    uint64_t memsz;
  };
  std::vector<Seg> segs;
  std::vector<std::pair<std::string, uint64_t>> symbols;
};

template <typename T>
void put(Bytes& b, size_t off, T v) {
  if (b.size() < off + sizeof v) b.resize(off + sizeof v);
  store_le<T>(b.data() + off, v);
}

// Layout: ELF header, program headers, segment bytes, then .symtab, .strtab and the section
// header table [null, .symtab, .strtab].
Bytes make_elf(const ElfSpec& s) {
  Bytes b(64);
  const uint8_t ident[] = {0x7f, 'E', 'L', 'F', s.elf_class, s.data, 1};
  std::memcpy(b.data(), ident, sizeof ident);
  put<uint16_t>(b, 16, s.type);
  put<uint16_t>(b, 18, s.machine);
  put<uint32_t>(b, 20, 1);
  put<uint64_t>(b, 24, s.entry);
  put<uint64_t>(b, 32, 64);
  put<uint16_t>(b, 52, 64);
  put<uint16_t>(b, 54, 56);
  put<uint16_t>(b, 56, static_cast<uint16_t>(s.segs.size()));
  size_t data_off = 64 + 56 * s.segs.size();
  for (size_t i = 0; i < s.segs.size(); ++i) {
    const auto& g = s.segs[i];
    const size_t ph = 64 + 56 * i;
    put<uint32_t>(b, ph + 0, 1);  // PT_LOAD
    put<uint32_t>(b, ph + 4, 7);
    put<uint64_t>(b, ph + 8, data_off);
    put<uint64_t>(b, ph + 16, g.vaddr);
    put<uint64_t>(b, ph + 24, g.paddr);
    put<uint64_t>(b, ph + 32, g.bytes.size());
    put<uint64_t>(b, ph + 40, g.memsz);
    b.resize(data_off);
    b.insert(b.end(), g.bytes.begin(), g.bytes.end());
    data_off = b.size();
  }
  if (!s.symbols.empty()) {
    Bytes strtab{0};
    Bytes symtab(24);  // symbol 0 is the null symbol
    for (const auto& [name, value] : s.symbols) {
      const size_t at = symtab.size();
      put<uint32_t>(symtab, at, static_cast<uint32_t>(strtab.size()));
      put<uint64_t>(symtab, at + 8, value);
      put<uint64_t>(symtab, at + 16, 0);
      strtab.insert(strtab.end(), name.begin(), name.end());
      strtab.push_back(0);
    }
    const size_t symoff = b.size();
    b.insert(b.end(), symtab.begin(), symtab.end());
    const size_t stroff = b.size();
    b.insert(b.end(), strtab.begin(), strtab.end());
    const size_t shoff = b.size();
    b.resize(shoff + 3 * 64);
    put<uint32_t>(b, shoff + 64 + 4, 2);  // SHT_SYMTAB
    put<uint64_t>(b, shoff + 64 + 24, symoff);
    put<uint64_t>(b, shoff + 64 + 32, symtab.size());
    put<uint32_t>(b, shoff + 64 + 40, 2);  // sh_link -> .strtab
    put<uint64_t>(b, shoff + 64 + 56, 24);
    put<uint32_t>(b, shoff + 128 + 4, 3);  // SHT_STRTAB
    put<uint64_t>(b, shoff + 128 + 24, stroff);
    put<uint64_t>(b, shoff + 128 + 32, strtab.size());
    put<uint64_t>(b, 40, shoff);
    put<uint16_t>(b, 58, 64);
    put<uint16_t>(b, 60, 3);
  }
  return b;
}

ElfSpec two_segment_elf() {
  ElfSpec s;
  s.entry = kRamBase + 0x10;
  s.segs.push_back({kRamBase, kRamBase, Bytes{1, 2, 3, 4, 5, 6, 7, 8}, 0x20});
  s.segs.push_back({kRamBase + 0x1000, kRamBase + 0x1000, Bytes{9, 9}, 2});
  s.symbols = {
      {"_start", kRamBase}, {"tohost", kRamBase + 0x1000}, {"fromhost", kRamBase + 0x1008}};
  return s;
}

std::string error_of(const auto& r) { return r.ok() ? std::string("(ok)") : r.error().message; }

// ---- ELF -------------------------------------------------------------------------------

TEST(LoadElf, LoadsSegmentsZeroesBssAndFindsHtifSymbols) {
  TempDir dir;
  TestBus t;
  const auto r = load_elf(dir.write("t.elf", make_elf(two_segment_elf())), t.bus);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entry, kRamBase + 0x10);
  EXPECT_EQ(r->low, kRamBase);
  EXPECT_EQ(r->high, kRamBase + 0x1002);
  EXPECT_EQ(r->tohost, kRamBase + 0x1000);
  EXPECT_EQ(r->fromhost, kRamBase + 0x1008);
  EXPECT_EQ(Bytes(t.at(kRamBase), t.at(kRamBase + 8)), (Bytes{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(Bytes(t.at(kRamBase + 8), t.at(kRamBase + 0x20)), Bytes(0x18, 0));
  EXPECT_EQ(*t.at(kRamBase + 0x20), 0xAA);  // beyond p_memsz: untouched
  EXPECT_EQ(*t.at(kRamBase + 0x1001), 9);
}

TEST(LoadElf, TranslatesVirtualEntryAndSymbolsToPhysical) {
  ElfSpec s;
  s.entry = 0xffffffff80000040;
  s.segs.push_back({0xffffffff80000000, kRamBase + 0x200000, Bytes(0x100, 1), 0x2000});
  s.symbols = {{"tohost", 0xffffffff80001000}};
  TestBus t(4 * MiB);
  const auto r = load_elf_bytes(make_elf(s), "k.elf", t.bus);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entry, kRamBase + 0x200040);
  EXPECT_EQ(r->tohost, kRamBase + 0x201000);
  EXPECT_FALSE(r->fromhost.has_value());
}

TEST(LoadElf, RefusesBadFilesWithOneLineErrors) {
  TestBus t;
  const Bytes good = make_elf(two_segment_elf());
  auto load = [&](const Bytes& b) { return error_of(load_elf_bytes(b, "x.elf", t.bus)); };

  EXPECT_EQ(load(Bytes(good.begin(), good.begin() + 20)),
            "x.elf: truncated (20 bytes, ELF header needs 64)");
  EXPECT_EQ(load(Bytes(good.begin(), good.begin() + 100)),
            "x.elf: truncated (100 bytes, program headers needs 176)");
  EXPECT_EQ(load(Bytes(good.begin(), good.begin() + 180)),
            "x.elf: truncated (180 bytes, segment 0 needs 184)");
  EXPECT_EQ(load(Bytes(64, 0x5A)), "x.elf: wrong format (not an ELF file)");

  ElfSpec s = two_segment_elf();
  s.machine = 62;
  EXPECT_EQ(load(make_elf(s)), "x.elf: wrong machine (ELF e_machine 62, RISC-V is 243)");
  s = two_segment_elf();
  s.elf_class = 1;
  EXPECT_EQ(load(make_elf(s)), "x.elf: wrong format (not ELF64)");
  s = two_segment_elf();
  s.data = 2;
  EXPECT_EQ(load(make_elf(s)), "x.elf: wrong format (big-endian ELF)");
  s = two_segment_elf();
  s.type = 3;
  EXPECT_EQ(load(make_elf(s)), "x.elf: wrong format (ELF e_type 3, need ET_EXEC)");

  s = two_segment_elf();
  s.segs[1].paddr = kRamBase + 0x10;
  EXPECT_EQ(load(make_elf(s)), "x.elf: overlaps itself (segments at 0x80000000 and 0x80000010)");
  s = two_segment_elf();
  s.segs[1].paddr = 0x90000000;
  EXPECT_EQ(load(make_elf(s)),
            "x.elf: does not fit in guest memory at 0x90000000-0x90000002 (2 bytes)");
  s = two_segment_elf();
  s.segs[1].paddr = kRamBase + MiB - 1;  // straddles the end of RAM
  EXPECT_EQ(load(make_elf(s)),
            "x.elf: does not fit in guest memory at 0x800fffff-0x80100001 (2 bytes)");
  s = two_segment_elf();
  s.segs[0].paddr = kBootRomBase;  // ROM is not writable
  EXPECT_EQ(load(make_elf(s)), "x.elf: does not fit in guest memory at 0x1000-0x1020 (32 bytes)");
  s = two_segment_elf();
  s.segs[0].memsz = 4;
  EXPECT_EQ(load(make_elf(s)), "x.elf: segment 0 has file size 0x8 > memory size 0x4");
  s = two_segment_elf();
  s.segs[0].paddr = ~uint64_t{0} - 4;
  EXPECT_EQ(load(make_elf(s)), "x.elf: segment 0 wraps around the address space");
  s = two_segment_elf();
  s.segs.clear();
  s.segs.push_back({0, 0, {}, 0});
  EXPECT_EQ(load(make_elf(s)), "x.elf: has no loadable segments");

  Bytes bad_sym = good;
  put<uint64_t>(bad_sym, 40, good.size() - 10);  // section headers beyond the end
  EXPECT_EQ(load(bad_sym), fmt::format("x.elf: truncated ({} bytes, section headers needs {})",
                                       good.size(), good.size() - 10 + 3 * 64));
}

TEST(LoadElf, WritesNothingWhenAnySegmentDoesNotFit) {
  TestBus t;
  ElfSpec s = two_segment_elf();
  s.segs[1].paddr = 0x90000000;
  EXPECT_FALSE(load_elf_bytes(make_elf(s), "x.elf", t.bus).ok());
  EXPECT_EQ(*t.at(kRamBase), 0xAA);
}

TEST(LoadElf, NamesMissingEmptyAndNonRegularFiles) {
  TempDir dir;
  TestBus t;
  EXPECT_EQ(error_of(load_elf(dir.path("nope.elf"), t.bus)),
            dir.path("nope.elf") + ": no such file");
  EXPECT_EQ(error_of(load_elf(dir.write("empty", {}), t.bus)), dir.path("empty") + ": is empty");
  fs::create_directory(dir.path("d"));
  EXPECT_EQ(error_of(load_raw(dir.path("d"), t.bus, kRamBase)),
            dir.path("d") + ": is not a regular file");
}

// ---- Linux Image, gzip, raw ------------------------------------------------------------

Bytes make_image(uint64_t text_offset, uint64_t image_size, size_t file_size,
                 bool old_magic = false) {
  Bytes b(file_size);
  for (size_t i = 64; i < file_size; ++i) b[i] = static_cast<uint8_t>(i * 7);
  put<uint32_t>(b, 0, 0x0000006f);  // code0: j . (any code; the header is what matters)
  put<uint64_t>(b, 0x08, text_offset);
  put<uint64_t>(b, 0x10, image_size);
  put<uint32_t>(b, 0x20, 2);  // version 0.2
  std::memcpy(&b[0x30], "RISCV\0\0\0", 8);
  if (!old_magic) std::memcpy(&b[0x38], "RSC\x05", 4);
  return b;
}

Bytes gzip(const Bytes& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  Bytes out(deflateBound(&z, in.size()) + 64);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(LinuxImage, ParsesHeaderWithEitherMagic) {
  auto h = parse_linux_image_header(make_image(0x200000, 0x1e6c000, 4096), "Image");
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(h->has_value());
  EXPECT_EQ((*h)->text_offset, 0x200000u);
  EXPECT_EQ((*h)->image_size, 0x1e6c000u);
  EXPECT_EQ((*h)->version, 2u);
  auto old = parse_linux_image_header(make_image(0x200000, 0x4000, 4096, true), "Image");
  ASSERT_TRUE(old.ok() && old->has_value());
  auto none = parse_linux_image_header(Bytes(4096, 0), "raw");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  Bytes be = make_image(0x200000, 0x4000, 4096);
  put<uint64_t>(be, 0x18, 1);
  EXPECT_EQ(error_of(parse_linux_image_header(be, "Image")),
            "Image: wrong format (big-endian Image)");
}

TEST(LinuxImage, LoadsAtRamBasePlusTextOffsetAndReservesImageSize) {
  TestBus t;
  const Bytes img = make_image(0x80000, 0x40000, 0x1000);
  const auto r = load_kernel_bytes(img, "Image", t.bus, kRamBase + 0x12345);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->addr, kRamBase + 0x80000);
  EXPECT_EQ(r->entry, kRamBase + 0x80000);
  EXPECT_EQ(r->size, 0x1000u);
  EXPECT_EQ(r->footprint, 0x40000u);
  EXPECT_EQ(Bytes(t.at(r->addr), t.at(r->addr + img.size())), img);

  // image_size (with .bss) must fit, not only the file.
  EXPECT_EQ(
      error_of(load_kernel_bytes(make_image(0x80000, 2 * MiB, 0x1000), "Image", t.bus, kRamBase)),
      "Image: does not fit in guest memory at 0x80080000-0x80280000 (2097152 bytes)");
}

TEST(LinuxImage, LoadsGzipCompressedImage) {
  TestBus t;
  const Bytes img = make_image(0x80000, 0x40000, 0x9000);
  const auto r = load_kernel_bytes(gzip(img), "Image.gz", t.bus, kRamBase);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->addr, kRamBase + 0x80000);
  EXPECT_EQ(r->size, img.size());
  EXPECT_EQ(Bytes(t.at(r->addr), t.at(r->addr + img.size())), img);
}

TEST(LinuxImage, RefusesGzipBombsAndBrokenStreams) {
  TestBus t;  // 1 MiB of RAM caps the output
  EXPECT_EQ(error_of(load_kernel_bytes(gzip(Bytes(MiB + 1, 0)), "big.gz", t.bus, kRamBase)),
            "big.gz: decompresses to more than the 1M of guest RAM");
  EXPECT_TRUE(load_kernel_bytes(gzip(Bytes(MiB, 0)), "exact.gz", t.bus, kRamBase).ok());
  const Bytes z = gzip(make_image(0x80000, 0x40000, 0x9000));
  EXPECT_EQ(
      error_of(load_kernel_bytes(Bytes(z.begin(), z.begin() + 40), "cut.gz", t.bus, kRamBase)),
      "cut.gz: truncated (40 bytes, gzip stream ends early)");
  Bytes corrupt = z;
  corrupt[3] = 0xE0;  // reserved FLG bits
  EXPECT_EQ(error_of(load_kernel_bytes(corrupt, "bad.gz", t.bus, kRamBase)),
            "bad.gz: wrong format (bad gzip data: unknown header flags set)");
}

TEST(LoadKernel, RawAtDefaultAddressAndElfAtItsOwn) {
  TempDir dir;
  TestBus t;
  const auto raw = load_kernel(dir.write("k.bin", Bytes(100, 0x11)), t.bus, kRamBase + 0x4000);
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  EXPECT_EQ(raw->addr, kRamBase + 0x4000);
  EXPECT_EQ(raw->size, 100u);
  EXPECT_EQ(*t.at(kRamBase + 0x4000 + 99), 0x11);
  const auto e = load_kernel(dir.write("k.elf", make_elf(two_segment_elf())), t.bus, 0);
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->addr, kRamBase);
  EXPECT_EQ(e->entry, kRamBase + 0x10);
  EXPECT_EQ(e->tohost, kRamBase + 0x1000);
}

TEST(LoadRaw, PlacesBytesOrSaysWhyNot) {
  TempDir dir;
  TestBus t;
  const std::string p = dir.write("initrd", Bytes(4096, 0x42));
  const auto r = load_raw(p, t.bus, kRamBase + 0x8000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size, 4096u);
  EXPECT_EQ(*t.at(kRamBase + 0x8000 + 4095), 0x42);
  EXPECT_EQ(error_of(load_raw(p, t.bus, kRamBase + MiB - 100)),
            p + ": does not fit in guest memory at 0x800fff9c-0x80100f9c (4096 bytes)");
  EXPECT_EQ(error_of(load_raw(p, t.bus, ~uint64_t{0} - 10)),
            p + ": does not fit in guest memory at 0xfffffffffffffff5-0xff5 (4096 bytes)");
}

// ---- Boot planning ---------------------------------------------------------------------

constexpr uint64_t kDebianImageSize = 0x1e6c000;  // Debian 6.12 riscv64 kernel's image_size
constexpr uint64_t kFdtSize = 0x10000;

struct PlanFiles {
  TempDir dir;
  std::string fw = dir.write("fw_dynamic.bin", Bytes(115328, 0x13));
  std::string fw_jump = dir.write("fw_jump.bin", Bytes(115328, 0x13));
  std::string image = dir.write("vmlinuz", make_image(0x200000, kDebianImageSize, 0x1000));
  std::string initrd = dir.write_sized("initrd.img", {0x1f, 0x8b}, 40 * MiB);
};

BootConfig config(const PlanFiles& f, uint64_t ram) {
  BootConfig c;
  c.ram_size = ram;
  c.firmware = f.fw;
  c.kernel = f.image;
  c.initrd = f.initrd;
  c.fdt_size = kFdtSize;
  return c;
}

TEST(PlanBoot, PlacesLikeQemuVirtWith1G) {
  PlanFiles f;
  const auto p = plan_boot(config(f, 1024 * MiB));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->firmware->addr, 0x80000000u);
  EXPECT_EQ(p->firmware->size, 115328u);
  EXPECT_EQ(p->kernel->addr, 0x80200000u);
  EXPECT_EQ(p->kernel->size, kDebianImageSize);
  EXPECT_EQ(p->kernel->kind, ImageKind::kLinuxImage);
  EXPECT_EQ(p->initrd->addr, 0x80200000u + 512 * MiB);
  EXPECT_EQ(p->initrd->size, 40 * MiB);
  EXPECT_EQ(p->fdt_addr, 0xBFE00000u);
  EXPECT_EQ(p->start_addr, 0x80000000u);
  EXPECT_EQ(p->next_addr, 0x80200000u);
  EXPECT_EQ(p->firmware_kind, FirmwareKind::kDynamic);
}

TEST(PlanBoot, InitrdHalfwayUpSmallRamAndBelowTheFdtWhenOnlyThatFits) {
  PlanFiles f;
  auto p = plan_boot(config(f, 256 * MiB));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->initrd->addr, 0x80200000u + 128 * MiB);
  EXPECT_EQ(p->fdt_addr, 0x8FE00000u);

  // 128M: QEMU's spot (0x84200000) leaves only 60M below the FDT; 80M must go lower.
  BootConfig c = config(f, 128 * MiB);
  c.initrd = f.dir.write_sized("big-initrd", {1}, 80 * MiB);
  p = plan_boot(c);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->fdt_addr, 0x87E00000u);
  EXPECT_EQ(p->initrd->addr, 0x82E00000u);
}

TEST(PlanBoot, RefusesRamTooSmallForWhatWasGiven) {
  PlanFiles f;
  EXPECT_EQ(error_of(plan_boot(config(f, 64 * MiB))),
            "memory 64M is too small: initrd needs 0x82200000-0x84a00000, RAM ends at 0x84000000");
  BootConfig c = config(f, 32 * MiB);
  c.initrd.reset();
  EXPECT_EQ(error_of(plan_boot(c)),
            "memory 32M is too small: kernel Image needs 0x80200000-0x8206c000, RAM ends at "
            "0x82000000");
  c.kernel = f.dir.write("31M-Image", make_image(0x200000, 0x1d00000, 0x1000));
  EXPECT_EQ(error_of(plan_boot(c)),
            "memory 32M is too small: kernel Image (0x80200000-0x81f00000) overlaps device tree "
            "(0x81e00000-0x81e10000)");
  c.ram_size = 1 * MiB;
  EXPECT_EQ(error_of(plan_boot(c)),
            "memory 1M is too small: firmware (0x80000000-0x8001c280) overlaps device tree "
            "(0x80000000-0x80010000)");
}

TEST(PlanBoot, RefusesOverlappingImages) {
  PlanFiles f;
  BootConfig c = config(f, 1024 * MiB);
  c.firmware = f.dir.write_sized("big_fw.bin", {0}, 3 * MiB);
  EXPECT_EQ(error_of(plan_boot(c)),
            "kernel Image (0x80200000-0x8206c000) overlaps firmware (0x80000000-0x80300000)");

  // A kernel whose image_size reaches the initrd (1G RAM puts the initrd 512M up).
  c = config(f, 1024 * MiB);
  c.kernel = f.dir.write("huge", make_image(0x200000, 600 * MiB, 0x1000));
  c.initrd = f.dir.write_sized("tiny-initrd", {1}, 4096);
  const auto p = plan_boot(c);  // the initrd moves below the FDT instead
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->initrd->addr, 0xBFE00000u - 4096);

  ElfSpec fw_elf;  // an ELF firmware linked where the kernel goes
  fw_elf.segs.push_back({0x80200000, 0x80200000, Bytes(16, 1), 0x1000});
  c = config(f, 1024 * MiB);
  c.firmware = f.dir.write("fw.elf", make_elf(fw_elf));
  c.initrd.reset();
  EXPECT_EQ(error_of(plan_boot(c)),
            "kernel Image (0x80200000-0x8206c000) overlaps firmware (0x80200000-0x80201000)");
}

TEST(PlanBoot, FwJumpReservesItsDeviceTreeCopy) {
  PlanFiles f;
  BootConfig c = config(f, 256 * MiB);
  c.firmware = f.fw_jump;
  auto p = plan_boot(c);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->firmware_kind, FirmwareKind::kJump);
  c.kernel = f.dir.write("big-Image", make_image(0x200000, 40 * MiB, 0x1000));
  EXPECT_EQ(error_of(plan_boot(c)),
            "kernel Image (0x80200000-0x82a00000) overlaps fw_jump's device tree copy "
            "(0x82200000-0x82210000)");
  c = config(f, 256 * MiB);
  c.firmware_kind = FirmwareKind::kJump;
  c.kernel = f.dir.write("raw-at-ram-base", Bytes(64, 1));
  c.firmware.reset();
  EXPECT_TRUE(plan_boot(c).ok());  // no firmware: nothing jumps
}

TEST(PlanBoot, BareMetalKernelsWithoutFirmware) {
  PlanFiles f;
  BootConfig c;
  c.ram_size = 128 * MiB;
  c.fdt_size = kFdtSize;
  c.kernel = f.dir.write("test.elf", make_elf(two_segment_elf()));
  auto p = plan_boot(c);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_FALSE(p->firmware.has_value());
  EXPECT_EQ(p->kernel->kind, ImageKind::kElf);
  EXPECT_EQ(p->start_addr, kRamBase + 0x10);  // the ELF entry
  c.kernel = f.dir.write("test.bin", Bytes(64, 1));
  p = plan_boot(c);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->kernel->addr, kRamBase);
  EXPECT_EQ(p->start_addr, kRamBase);
}

// --firmware builtin starts the kernel in S-mode with no firmware below it: a raw S-mode loader
// (U-Boot's qemu-riscv64_smode u-boot.bin, linked at 0x80200000) must land where fw_jump would
// have started it, and an Image still goes to its text_offset.
TEST(PlanBoot, SupervisorPayloadWithoutFirmwareStartsWhereFwJumpWould) {
  PlanFiles f;
  BootConfig c;
  c.ram_size = 128 * MiB;
  c.fdt_size = kFdtSize;
  c.supervisor_payload = true;
  c.kernel = f.dir.write("u-boot.bin", Bytes(648896, 0x13));
  auto p = plan_boot(c);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->kernel->kind, ImageKind::kRaw);
  EXPECT_EQ(p->kernel->addr, kRamBase + 2 * MiB);
  EXPECT_EQ(p->start_addr, kRamBase + 2 * MiB);
  EXPECT_EQ(p->next_addr, kRamBase + 2 * MiB);
  c.kernel = f.image;
  p = plan_boot(c);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->kernel->addr, kRamBase + 0x200000);
}

TEST(PlanBoot, RefusesMissingPiecesAndFiles) {
  PlanFiles f;
  BootConfig c;
  c.ram_size = 128 * MiB;
  c.fdt_size = kFdtSize;
  EXPECT_EQ(error_of(plan_boot(c)), "nothing to boot: no firmware and no kernel");
  c.kernel = f.dir.path("missing-Image");
  EXPECT_EQ(error_of(plan_boot(c)), f.dir.path("missing-Image") + ": no such file");
  c.kernel = f.image;
  c.fdt_size = 0;
  EXPECT_EQ(error_of(plan_boot(c)), "device tree size not given");
}

TEST(LoadBoot, LoadsWhatThePlanSays) {
  TempDir dir;
  TestBus t(64 * MiB);
  BootConfig c;
  c.ram_size = 64 * MiB;
  c.fdt_size = kFdtSize;
  c.firmware = dir.write("fw_dynamic.bin", Bytes(4096, 0x13));
  const Bytes image = make_image(0x200000, 0x100000, 0x2000);
  c.kernel = dir.write("Image.gz", gzip(image));
  c.initrd = dir.write("initrd", Bytes(8192, 0x77));
  const auto plan = plan_boot(c);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->kernel->kind, ImageKind::kGzipLinuxImage);
  const auto got = load_boot(*plan, t.bus);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->firmware->addr, kRamBase);
  EXPECT_EQ(*t.at(kRamBase + 4095), 0x13);
  EXPECT_EQ(got->kernel->addr, 0x80200000u);
  EXPECT_EQ(Bytes(t.at(0x80200000), t.at(0x80200000 + image.size())), image);
  EXPECT_EQ(got->initrd->addr, 0x80200000u + 32 * MiB);
  EXPECT_EQ(got->initrd->size, 8192u);
  EXPECT_EQ(*t.at(got->initrd->addr + 8191), 0x77);
  EXPECT_FALSE(got->tohost.has_value());
}

TEST(FormatSize, AsOnTheCommandLine) {
  EXPECT_EQ(format_size(64 * MiB), "64M");
  EXPECT_EQ(format_size(2048 * MiB), "2G");
  EXPECT_EQ(format_size(1536 * 1024), "1536K");
  EXPECT_EQ(format_size(1000), "1000 bytes");
}

// ---- Reset vector ----------------------------------------------------------------------

// Reference encodings from GNU as 2.40: `riscv64-linux-gnu-as -march=rv64gc` on a file
// starting with `.option norvc`, then `riscv64-linux-gnu-objdump -d`.
TEST(ResetVector, EncodersMatchTheAssembler) {
  using namespace rvasm;
  EXPECT_EQ(auipc(t0, 0), 0x00000297u);         // auipc t0, 0
  EXPECT_EQ(auipc(a5, 0x12345), 0x12345797u);   // auipc a5, 0x12345
  EXPECT_EQ(auipc(t1, 0xfffff), 0xfffff317u);   // auipc t1, 0xfffff
  EXPECT_EQ(addi(a2, t0, 40), 0x02828613u);     // addi a2, t0, 40
  EXPECT_EQ(addi(a0, a1, -1), 0xfff58513u);     // addi a0, a1, -1
  EXPECT_EQ(addi(sp, sp, -2048), 0x80010113u);  // addi sp, sp, -2048
  EXPECT_EQ(addi(zero, zero, 0), 0x00000013u);  // nop
  EXPECT_EQ(addi(a2, zero, 0), 0x00000613u);    // li a2, 0
  EXPECT_EQ(ld(a1, t0, 32), 0x0202b583u);       // ld a1, 32(t0)
  EXPECT_EQ(ld(t0, t0, 24), 0x0182b283u);       // ld t0, 24(t0)
  EXPECT_EQ(ld(a0, sp, -8), 0xff813503u);       // ld a0, -8(sp)
  EXPECT_EQ(ld(t6, s0, 2047), 0x7ff43f83u);     // ld t6, 2047(s0)
  EXPECT_EQ(csrr(a0, mhartid), 0xf1402573u);    // csrr a0, mhartid
  EXPECT_EQ(csrr(t2, mstatus), 0x300023f3u);    // csrr t2, mstatus
  EXPECT_EQ(jalr(zero, t0, 0), 0x00028067u);    // jr t0
  EXPECT_EQ(jalr(ra, a5, 12), 0x00c780e7u);     // jalr ra, 12(a5)
  EXPECT_EQ(jalr(t0, a0, -4), 0xffc502e7u);     // jalr t0, -4(a0)
}

// The same program assembled (as above, then `objcopy -O binary -j .text`):
//   1: auipc t0, 0; addi a2, t0, 0x28; csrr a0, mhartid; ld a1, 0x20(t0); ld t0, 0x18(t0)
//      jalr zero, 0(t0)
//   .dword 0x80000000, 0x87e00000              # start_addr, fdt_addr
//   .dword 0x4942534f, 2, 0x80200000, 1, 0, 0  # fw_dynamic_info
TEST(ResetVector, MatchesAssembledProgram) {
  const Bytes expected = {
      0x97, 0x02, 0x00, 0x00, 0x13, 0x86, 0x82, 0x02, 0x73, 0x25, 0x40, 0xf1, 0x83, 0xb5, 0x02,
      0x02, 0x83, 0xb2, 0x82, 0x01, 0x67, 0x80, 0x02, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0xe0, 0x87, 0x00, 0x00, 0x00, 0x00, 0x4f, 0x53, 0x42, 0x49, 0x00,
      0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x80,
      0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  FwDynamicInfo info;
  info.next_addr = 0x80200000;
  EXPECT_EQ(make_reset_vector(0x80000000, 0x87e00000, info), expected);
}

TEST(ResetVector, FwDynamicInfoLayoutAndNoInfoVariant) {
  FwDynamicInfo info;
  info.next_addr = 0x1'2345'6789;
  info.next_mode = FwDynamicInfo::kNextModeM;
  info.options = 1;
  info.boot_hart = FwDynamicInfo::kAnyHart;
  const Bytes rom = make_reset_vector(0x8000'0000'0000, 0x9000'0000'1000, info);
  ASSERT_EQ(rom.size(), 0x28u + 48u);
  ASSERT_LE(rom.size(), kBootRomSize);
  const uint8_t* s = rom.data() + kFwDynamicInfoOffset;
  EXPECT_EQ(load_le<uint64_t>(rom.data() + kStartAddrOffset), 0x8000'0000'0000u);
  EXPECT_EQ(load_le<uint64_t>(rom.data() + kFdtAddrOffset), 0x9000'0000'1000u);
  EXPECT_EQ(load_le<uint64_t>(s + 0), 0x4942534fu);
  EXPECT_EQ(std::memcmp(s, "OSBI", 4), 0);
  EXPECT_EQ(load_le<uint64_t>(s + 8), 2u);
  EXPECT_EQ(load_le<uint64_t>(s + 16), 0x1'2345'6789u);
  EXPECT_EQ(load_le<uint64_t>(s + 24), 3u);
  EXPECT_EQ(load_le<uint64_t>(s + 32), 1u);
  EXPECT_EQ(load_le<uint64_t>(s + 40), ~uint64_t{0});

  const Bytes bare = make_reset_vector(0x80000000, 0x87e00000, std::nullopt);
  ASSERT_EQ(bare.size(), 0x28u);
  EXPECT_EQ(load_le<uint32_t>(bare.data() + 4), 0x00000613u);  // li a2, 0
  EXPECT_EQ(Bytes(bare.begin() + 8, bare.begin() + 0x18),
            Bytes(rom.begin() + 8, rom.begin() + 0x18));
}

}  // namespace
}  // namespace vessel
