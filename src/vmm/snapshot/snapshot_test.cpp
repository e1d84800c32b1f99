// Snapshots against a real machine (the cli tests' spin guest, two harts, the builtin SBI, a
// disk, a user network): a round trip keeps every hart's registers and CSRs, guest RAM, every
// device's state and libslirp's (the restored machine saves the same bytes), and each kind of
// bad file is refused with one line: another format or Vessel version, a truncated file, a
// flipped byte, trailing bytes, a memory file of the wrong size, a disk changed since, a
// machine of another shape, a network state that kept its checksum but not its form.
#include "vmm/snapshot/snapshot.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "base/files.hpp"
#include "base/test_temp_dir.hpp"
#include "host/block/overlay.hpp"
#include "host/net/mmds.hpp"
#include "host/net/slirp_backend.hpp"
#include "host/net/slirp_state.hpp"
#include "vmm/snapshot/snapshot_file.hpp"

namespace vessel::snapshot {
namespace {

constexpr uint64_t kMark = 0x8010'0000;
constexpr uint64_t kFrozenMtime = 123'456'789;

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

void write_all(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    disk = dir.file("disk.img");
    write_all(disk, std::vector<uint8_t>(1 << 20, 0));
    config.ram_size = 64ULL << 20;
    config.num_harts = 2;
    config.builtin_sbi = true;
    config.kernel = VESSEL_TEST_SPIN_ELF;
    config.rng = false;
    config.disks = {block::disk_of(disk)};
    config.balloon = virtio::BalloonConfig{8, true, 5};
    config.nets = {NetSpec{}};  // user networking: libslirp's state goes along
    auto m = VirtMachine::create(config, {[](uint8_t) {}, [](PowerRequest) {}});
    ASSERT_TRUE(m.ok()) << m.error().message;
    machine = std::move(*m);
    // A state no boot gives: registers, FP, CSRs, RAM, a frozen clock.
    rv::Hart& h = *machine->harts()[1];
    h.x[5] = 0x1234'5678'9abc'def0;
    h.f[3] = 0x4009'21fb'5444'2d18;
    h.pc = 0x8000'1000;
    ASSERT_TRUE(h.debug_csr_write(rv::kMscratch, 0xabcdef));
    ASSERT_TRUE(h.debug_csr_write(rv::kSatp, (8ULL << 60) | 0x80123));
    ASSERT_TRUE(h.debug_csr_write(rv::kFcsr, 0x65));
    // The H extension's state, with the hart in a guest's VS-mode (V=1).
    ASSERT_TRUE(h.debug_csr_write(rv::kHgatp, (8ULL << 60) | 0x80200));
    ASSERT_TRUE(h.debug_csr_write(rv::kVsatp, (8ULL << 60) | 0x80300));
    ASSERT_TRUE(h.debug_csr_write(rv::kVsscratch, 0x5151));
    ASSERT_TRUE(h.debug_csr_write(rv::kHedeleg, 1ULL << 8));
    ASSERT_TRUE(h.debug_csr_write(rv::kMtval2, 0x2000));
    // LCOFI injected through hvip.13, with the guest's own vsie.13 (hideleg.13 clear).
    ASSERT_TRUE(h.debug_csr_write(rv::kHvip, rv::irq::kLCOFIP));
    ASSERT_TRUE(h.debug_csr_write(rv::kVsie, rv::irq::kLCOFIP));
    h.debug_set_priv(rv::Priv::kS);
    h.virt = true;
    ASSERT_TRUE(machine->bus().write_phys(kMark, "snapshot", 8));
    machine->clock().freeze_at(kFrozenMtime);
    files = {dir.file("vmstate"), dir.file("memory")};
    ASSERT_TRUE(create(*machine, config, files).ok());
    machine->save_state(saved);
    saved_run_state = machine->harts()[1]->run_state();
    machine.reset();  // its disk is locked while it lives, as a running VM's is
  }

  // The state file's sections, as a test changes them and encode_file puts them back.
  Result<std::vector<Section>> state_file_sections() {
    const auto bytes = read_all(files.state_path);
    return decode_file(bytes.data(), bytes.size(), {"header", "disks", "memory", "machine", "net"});
  }

  // The error of loading `bytes` as the state file.
  std::string load_error(const std::vector<uint8_t>& bytes) {
    const std::string path = dir.file("bad");
    write_all(path, bytes);
    auto r = load(path, files.memory_path);
    if (r.ok()) return "(loaded)";
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << r.error().message;
    return r.error().message;
  }

  testing::TempDir dir;
  std::string disk;
  VirtConfig config;
  std::unique_ptr<VirtMachine> machine;
  CreateOptions files;
  StateWriter saved;
  rv::Hart::RunState saved_run_state{};
};

// The daemon's restores and clones: the same snapshot over a copy of its disk, with an
// overlay, restores; a disk of another size or another count of devices is refused.
TEST_F(SnapshotTest, RebindRunsTheSnapshotOverAnotherDisk) {
  const std::vector<uint8_t> bytes = read_all(files.state_path);
  const std::string copy = dir.file("copy.img");
  write_all(copy, read_all(disk));
  const std::string overlay = dir.file("copy.overlay");
  {
    const int fd = open(copy.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    auto id = block::overlay::identify_base(fd, copy, 1 << 20);
    close(fd);
    ASSERT_TRUE(id.ok()) << id.error().message;
    ASSERT_TRUE(block::overlay::create(overlay, *id).ok());
  }
  block::DiskSpec overlaid = block::disk_of(copy);
  overlaid.overlay = overlay;
  auto rebound = rebind(bytes.data(), bytes.size(), {overlaid}, config.nets);
  ASSERT_TRUE(rebound.ok()) << rebound.error().message;
  write_all(files.state_path, *rebound);
  auto loaded = load(files.state_path, files.memory_path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->config.disks, std::vector<block::DiskSpec>{overlaid});
  EXPECT_EQ(loaded->disks[0].base, copy);
  auto restored = restore(*loaded, config, {[](uint8_t) {}, [](PowerRequest) {}});
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  char mark[9] = {};
  ASSERT_TRUE((*restored)->bus().read_phys(kMark, mark, 8));
  EXPECT_STREQ(mark, "snapshot");
  restored->reset();

  const std::string small = dir.file("small.img");
  write_all(small, std::vector<uint8_t>(4096, 0));
  auto r = rebind(bytes.data(), bytes.size(), {block::disk_of(small)}, config.nets);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("4096 bytes, the snapshot's disk 0 has 1048576"),
            std::string::npos)
      << r.error().message;
  r = rebind(bytes.data(), bytes.size(), {block::disk_of(copy)}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("1 disks and 1 networks, not 1 and 0"), std::string::npos)
      << r.error().message;
  // The user network's libslirp state does not go to a tap.
  NetSpec tap;
  tap.kind = NetSpec::Kind::kTap;
  tap.ifname = "tap0";
  r = rebind(bytes.data(), bytes.size(), {block::disk_of(copy)}, {tap});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "snapshot network 0: a tap network with saved state");
  r = rebind(bytes.data(), bytes.size() - 1, {block::disk_of(copy)}, config.nets);
  EXPECT_FALSE(r.ok());
}

TEST_F(SnapshotTest, RoundTripKeepsHartsMemoryAndDevices) {
  auto loaded = load(files.state_path, files.memory_path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->config.ram_size, config.ram_size);
  EXPECT_EQ(loaded->config.num_harts, 2U);
  auto restored = restore(*loaded, config, {[](uint8_t) {}, [](PowerRequest) {}});
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  VirtMachine& m = **restored;
  EXPECT_TRUE(m.ram().file_backed());
  char mark[9] = {};
  ASSERT_TRUE(m.bus().read_phys(kMark, mark, 8));
  EXPECT_STREQ(mark, "snapshot");
  rv::Hart& h = *m.harts()[1];
  EXPECT_EQ(h.x[5], 0x1234'5678'9abc'def0ULL);
  EXPECT_EQ(h.f[3], 0x4009'21fb'5444'2d18ULL);
  EXPECT_EQ(h.pc, 0x8000'1000ULL);
  uint64_t v = 0;
  ASSERT_TRUE(h.debug_csr_read(rv::kMscratch, v));
  EXPECT_EQ(v, 0xabcdefULL);
  ASSERT_TRUE(h.debug_csr_read(rv::kSatp, v));
  EXPECT_EQ(v, (8ULL << 60) | 0x80123);
  ASSERT_TRUE(h.debug_csr_read(rv::kFcsr, v));
  EXPECT_EQ(v, 0x65U);
  EXPECT_TRUE(h.virt);
  EXPECT_EQ(h.priv, rv::Priv::kS);
  ASSERT_TRUE(h.debug_csr_read(rv::kHgatp, v));
  EXPECT_EQ(v, (8ULL << 60) | 0x80200);
  ASSERT_TRUE(h.debug_csr_read(rv::kVsatp, v));
  EXPECT_EQ(v, (8ULL << 60) | 0x80300);
  ASSERT_TRUE(h.debug_csr_read(rv::kVsscratch, v));
  EXPECT_EQ(v, 0x5151U);
  ASSERT_TRUE(h.debug_csr_read(rv::kHedeleg, v));
  EXPECT_EQ(v, 1ULL << 8);
  ASSERT_TRUE(h.debug_csr_read(rv::kMtval2, v));
  EXPECT_EQ(v, 0x2000U);
  ASSERT_TRUE(h.debug_csr_read(rv::kHvip, v));
  EXPECT_EQ(v, rv::irq::kLCOFIP);
  ASSERT_TRUE(h.debug_csr_read(rv::kVsie, v));
  EXPECT_EQ(v, rv::irq::kLCOFIP);
  EXPECT_EQ(m.harts()[1]->run_state(), saved_run_state);
  // Guest time goes on from the snapshot's.
  EXPECT_GE(m.clock().mtime(), kFrozenMtime);
  EXPECT_LT(m.clock().mtime(), kFrozenMtime + 100 * MachineClock::kFrequencyHz);
  // Every device and hart saves what it was given back.
  m.clock().freeze_at(kFrozenMtime);
  StateWriter after;
  m.save_state(after);
  EXPECT_EQ(saved.bytes(), after.bytes());
  // The user network's state went to its backend, which saves it again.
  ASSERT_EQ(loaded->net_state.size(), 1U);
  std::vector<std::vector<uint8_t>> net_after;
  m.quiesced([&] { net_after = m.save_net_state(); });
  EXPECT_EQ(net_after, loaded->net_state);
}

TEST_F(SnapshotTest, RefusesAnotherFormatVersion) {
  auto bytes = read_all(files.state_path);
  bytes[8] = static_cast<uint8_t>(kFormatVersion + 1);
  const std::string expected = "format version " + std::to_string(kFormatVersion + 1);
  EXPECT_NE(load_error(bytes).find(expected), std::string::npos) << load_error(bytes);
}

TEST_F(SnapshotTest, RefusesAnotherVesselVersion) {
  auto sections = state_file_sections();
  ASSERT_TRUE(sections.ok());
  std::vector<uint8_t>& header = (*sections)[0].data;
  const std::string version = vessel_version();
  auto at = std::search(header.begin(), header.end(), version.begin(), version.end());
  ASSERT_NE(at, header.end());
  *at = '9';
  EXPECT_NE(load_error(encode_file(*sections)).find("taken by Vessel 9"), std::string::npos);
}

// A network's state that kept its checksum is still checked before libslirp reads it.
TEST_F(SnapshotTest, RefusesABadNetworkState) {
  auto sections = state_file_sections();
  ASSERT_TRUE(sections.ok());
  std::vector<uint8_t>& net = (*sections)[4].data;
  // "net/1", the count, the entry's length, then slirp_state.hpp's frame (27 bytes): the
  // stream's first byte says whether a connection follows.
  const size_t stream = 8 + 5 + 4 + 8 + 27;
  ASSERT_GT(net.size(), stream);
  net[stream] = 7;
  EXPECT_EQ(load_error(encode_file(*sections)),
            dir.file("bad") + ": snapshot network 0: user network state: a socket marker of 7");
}

TEST_F(SnapshotTest, RefusesTruncatedFlippedTrailingAndForeignFiles) {
  const auto bytes = read_all(files.state_path);
  for (size_t keep : {size_t{0}, size_t{10}, size_t{40}, bytes.size() / 2, bytes.size() - 1}) {
    const std::string e = load_error({bytes.begin(), bytes.begin() + static_cast<long>(keep)});
    EXPECT_TRUE(e.find("truncated") != std::string::npos ||
                e.find("not a Vessel") != std::string::npos)
        << keep << ": " << e;
  }
  // A flipped bit anywhere past the fixed header is caught by a checksum or a section check.
  for (size_t at = 16; at < bytes.size(); at += 97) {
    auto flipped = bytes;
    flipped[at] ^= 0x10;
    EXPECT_NE(load_error(flipped), "(loaded)") << "flipped byte " << at;
  }
  auto flipped = bytes;
  flipped[bytes.size() - 3] ^= 1;
  EXPECT_NE(load_error(flipped).find("checksum"), std::string::npos);
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_NE(load_error(longer).find("trailing"), std::string::npos);
  auto foreign = bytes;
  foreign[0] = 'X';
  EXPECT_NE(load_error(foreign).find("not a Vessel snapshot"), std::string::npos);
}

TEST_F(SnapshotTest, RefusesAMemoryFileOfTheWrongSize) {
  ASSERT_EQ(truncate(files.memory_path.c_str(), 4096), 0);
  auto r = load(files.state_path, files.memory_path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("memory file"), std::string::npos) << r.error().message;
}

TEST_F(SnapshotTest, RefusesADiskChangedSince) {
  write_all(disk, std::vector<uint8_t>(1 << 20, 1));
  auto r = load(files.state_path, files.memory_path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("changed since the snapshot"), std::string::npos)
      << r.error().message;
}

TEST_F(SnapshotTest, RefusesAMachineOfAnotherShape) {
  auto loaded = load(files.state_path, files.memory_path);
  ASSERT_TRUE(loaded.ok());
  loaded->config.num_harts = 1;
  auto r = restore(*loaded, config, {[](uint8_t) {}, [](PowerRequest) {}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("harts saved"), std::string::npos) << r.error().message;
}

TEST_F(SnapshotTest, RefusesCorruptMachineStateWithoutCrashing) {
  auto loaded = load(files.state_path, files.memory_path);
  ASSERT_TRUE(loaded.ok());
  // Past the checksum (as if it matched): every prefix and some flipped bytes are refused or
  // restored, never a crash.
  const std::vector<uint8_t> good = loaded->machine_state;
  for (size_t keep = 0; keep < good.size(); keep += 211) {
    loaded->machine_state.assign(good.begin(), good.begin() + static_cast<long>(keep));
    EXPECT_FALSE(restore(*loaded, config, {[](uint8_t) {}, [](PowerRequest) {}}).ok());
  }
}

// The fuzz corpus's user network seeds (tests/fuzz/make_corpus.py) are what they say: a real
// snapshot with --net user,mmds=on, the same with a connection to the metadata service, and
// that connection alone, which libslirp loads.
TEST(SnapshotCorpus, UserNetworkSeedsLoad) {
  const std::string corpus = VESSEL_SNAPSHOT_CORPUS;
  for (const auto& [name, connections] :
       {std::pair{"/state_file_user_net", 0U}, std::pair{"/state_file_mmds_connection", 1U}}) {
    const std::vector<uint8_t> file = read_all(corpus + name);
    ASSERT_GT(file.size(), 1U) << name;
    auto loaded = parse(file.data() + 1, file.size() - 1);  // after the target's selector
    ASSERT_TRUE(loaded.ok()) << name << ": " << loaded.error().message;
    ASSERT_EQ(loaded->net_state.size(), 1U);
    auto state = net::parse_slirp_state(loaded->net_state[0], true);
    ASSERT_TRUE(state.ok()) << state.error().message;
    EXPECT_EQ(state->connections, connections) << name;
  }
  const std::vector<uint8_t> seed = read_all(corpus + "/slirp_connection");
  ASSERT_GT(seed.size(), 1U);
  EventLoop loop;
  NetSpec spec;
  spec.mmds = true;
  auto backend = SlirpBackend::create(loop, spec, std::make_shared<net::MmdsStore>());
  ASSERT_TRUE(backend.ok()) << backend.error().message;
  auto ok = (*backend)->load_state({seed.data() + 1, seed.size() - 1});
  EXPECT_TRUE(ok.ok()) << ok.error().message;
}

}  // namespace
}  // namespace vessel::snapshot

namespace vessel::snapshot {
namespace {

// A Diff holds only what was written since the Full before it; layered onto the Full's memory
// file (apply_diff) with the Diff's state file it restores the machine as it was at the Diff.
TEST_F(SnapshotTest, DiffHoldsTheWrittenPagesAndLayersOntoItsBase) {
  auto m = VirtMachine::create(config, {[](uint8_t) {}, [](PowerRequest) {}});
  ASSERT_TRUE(m.ok()) << m.error().message;
  VirtMachine& live = **m;
  const CreateOptions diff_files{dir.file("diff-vmstate"), dir.file("diff-memory"), true};
  auto no_base = create(live, config, diff_files);
  ASSERT_FALSE(no_base.ok());
  EXPECT_NE(no_base.error().message.find("Full snapshot"), std::string::npos);
  ASSERT_TRUE(live.bus().write_phys(kMark, "the base", 8));
  const CreateOptions full_files{dir.file("full-vmstate"), dir.file("full-memory"), false};
  auto full = create(live, config, full_files);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_GE(full->memory_pages, 1U);
  // After the Full: one page written by "DMA", one zeroed (a zero page must reach the base).
  constexpr uint64_t kOther = kMark + (1 << 20);
  ASSERT_TRUE(live.bus().write_phys(kOther, "the diff", 8));
  ASSERT_TRUE(live.bus().write_phys(kMark, std::vector<uint8_t>(8, 0).data(), 8));
  auto diff = create(live, config, diff_files);
  ASSERT_TRUE(diff.ok()) << diff.error().message;
  EXPECT_EQ(diff->memory_pages, 2U);
  m->reset();
  const std::string merged = dir.file("merged-memory");
  write_all(merged, read_all(full_files.memory_path));
  ASSERT_TRUE(apply_diff(merged, diff_files.memory_path).ok());
  auto loaded = load(diff_files.state_path, merged);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_TRUE(loaded->diff);
  auto restored = restore(*loaded, config, {[](uint8_t) {}, [](PowerRequest) {}});
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  char text[9] = {};
  ASSERT_TRUE((*restored)->bus().read_phys(kOther, text, 8));
  EXPECT_STREQ(text, "the diff");
  uint64_t zero = 1;
  ASSERT_TRUE((*restored)->bus().read_phys(kMark, &zero, 8));
  EXPECT_EQ(zero, 0U);
  // Files of different sizes are not layered.
  write_all(dir.file("short"), std::vector<uint8_t>(4096, 1));
  EXPECT_FALSE(apply_diff(merged, dir.file("short")).ok());
}

}  // namespace
}  // namespace vessel::snapshot
