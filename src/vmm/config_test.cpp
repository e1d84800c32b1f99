// The machine configuration's JSON (vmm/config.hpp): every setting round-trips, a field left
// out keeps its default, and each wrong input is refused with one line naming the field.
#include "vmm/config.hpp"

#include <gtest/gtest.h>

namespace vessel {
namespace {

using nlohmann::json;

VmConfig everything() {
  VmConfig c;
  VirtConfig& m = c.machine;
  m.ram_size = 256ULL << 20;
  m.num_harts = 4;
  m.firmware = "/fw/fw_jump.bin";
  m.kernel = "/boot/Image";
  m.initrd = "/boot/initrd,1.cpio.gz";
  m.bootargs = "console=ttyS0 root=/dev/vda";
  block::DiskSpec base = block::disk_of("/images/base,clean.img", false);
  base.overlay = "/vms/a/overlay,1";
  base.format_stated = true;
  block::DiskSpec scratch = block::disk_of("/images/scratch.img", false);
  scratch.snapshot = true;
  block::DiskSpec nbd = block::disk_of("nbd+unix:///export?socket=/run/nbd.sock", true);
  nbd.timeout_seconds = 7;
  m.disks = {base, scratch, nbd};
  NetSpec user;
  user.hostfwd = {*parse_hostfwd("tcp::2222-:22"), *parse_hostfwd("udp:0.0.0.0:5353-10.0.2.20:53")};
  user.restricted = true;
  user.host_loopback = false;
  user.mmds = true;
  user.mac = *parse_mac("52:54:00:aa:bb:cc");
  NetSpec tap;
  tap.kind = NetSpec::Kind::kTap;
  tap.ifname = "tap0";
  m.nets = {user, tap};
  m.virtio_console_socket = "/run/hvc.sock";
  m.rng = false;  // eight slots: three disks, two nets, console, balloon, vsock
  m.rng_rate_limiter.bandwidth = TokenBucketConfig{4096, 100, 1000};
  m.balloon = virtio::BalloonConfig{64, true, 10};
  m.vsock = virtio::VsockConfig{42, "/run/v.sock"};
  m.engine = rv::Engine::kInterp;
  m.jit_cache_bytes = 8ULL << 20;
  m.jit_threshold = 17;
  m.sstc = false;
  m.extensions &= ~rv::ext_bit(rv::Ext::Zbb);
  c.accel = Accel::kKvm;
  return c;
}

TEST(MachineConfig, EverySettingRoundTrips) {
  const VmConfig c = everything();
  const json j = to_json(c);
  auto back = vm_config_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  const VirtConfig& m = back->machine;
  EXPECT_EQ(m.ram_size, c.machine.ram_size);
  EXPECT_EQ(m.num_harts, 4U);
  EXPECT_FALSE(m.builtin_sbi);
  EXPECT_EQ(m.firmware, c.machine.firmware);
  EXPECT_EQ(m.kernel, c.machine.kernel);
  EXPECT_EQ(m.initrd, c.machine.initrd);
  EXPECT_EQ(m.bootargs, c.machine.bootargs);
  EXPECT_EQ(m.disks, c.machine.disks);
  EXPECT_EQ(m.nets, c.machine.nets);
  EXPECT_EQ(m.virtio_console_socket, c.machine.virtio_console_socket);
  EXPECT_FALSE(m.rng);
  EXPECT_EQ(m.rng_rate_limiter, c.machine.rng_rate_limiter);
  EXPECT_EQ(m.balloon->amount_mib, 64U);
  EXPECT_TRUE(m.balloon->deflate_on_oom);
  EXPECT_EQ(m.balloon->stats_interval_s, 10U);
  EXPECT_EQ(m.vsock->guest_cid, 42U);
  EXPECT_EQ(m.vsock->uds_path, "/run/v.sock");
  EXPECT_EQ(m.engine, rv::Engine::kInterp);
  EXPECT_EQ(m.jit_cache_bytes, 8ULL << 20);
  EXPECT_EQ(m.jit_threshold, 17U);
  EXPECT_FALSE(m.sstc);
  EXPECT_TRUE(m.sdtrig);
  EXPECT_EQ(m.extensions, c.machine.extensions);
  EXPECT_EQ(back->accel, Accel::kKvm);
  EXPECT_EQ(to_json(*back), j);
  // And through its text, as config.json and snapshots hold it.
  auto reread = vm_config_from_json(json::parse(j.dump()));
  ASSERT_TRUE(reread.ok());
  EXPECT_EQ(to_json(*reread), j);
}

TEST(MachineConfig, FieldsLeftOutKeepTheDefaults) {
  VmConfig defaults;
  defaults.machine.ram_size = 128ULL << 20;
  defaults.machine.builtin_sbi = true;
  auto c = vm_config_from_json(json{{"cpus", 2}}, defaults);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->machine.ram_size, 128ULL << 20);
  EXPECT_EQ(c->machine.num_harts, 2U);
  EXPECT_TRUE(c->machine.builtin_sbi);
  EXPECT_TRUE(c->machine.rng);
  EXPECT_EQ(c->accel, Accel::kTcg);
  auto none = vm_config_from_json(json{{"firmware", "none"}}, defaults);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->machine.builtin_sbi);
  EXPECT_FALSE(none->machine.firmware);
  // A RAM size that is no whole number of MiB is kept exact.
  VmConfig odd;
  odd.machine.ram_size = (64ULL << 20) + 4096;
  const json j = to_json(odd);
  EXPECT_FALSE(j.contains("memory_mib"));
  EXPECT_EQ(vm_config_from_json(j)->machine.ram_size, odd.machine.ram_size);
}

TEST(MachineConfig, UserNetworkDefaultsAreQemus) {
  auto c = machine_from_json(json{{"nets", {{{"type", "user"}}}}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->nets[0].host_loopback);
  EXPECT_FALSE(c->nets[0].restricted);
  EXPECT_FALSE(c->nets[0].mac);
}

TEST(MachineConfig, EachWrongInputIsRefusedNamingTheField) {
  struct Case {
    json body;
    const char* expect;
  };
  const json user{{"type", "user"}};
  const Case cases[] = {
      {json::array(), "must be a JSON object"},
      {{{"colour", 1}}, "unknown field 'colour'"},
      {{{"cpus", 0}}, "cpus: 0 is out of range (1-32)"},
      {{{"cpus", "2"}}, "cpus: expected an integer"},
      {{{"memory_mib", 8}}, "memory_mib: 8 is out of range (16-65536)"},
      {{{"memory_bytes", (16 << 20) + 1}}, "must be a multiple of 4K"},
      {{{"memory_mib", 16}, {"cpus", 8}}, "cpus 8 needs at least 30M of memory, not 16M"},
      {{{"kernel", ""}}, "kernel: empty path"},
      {{{"kernel", "a\nb"}}, "kernel: not a usable path"},
      {{{"initrd", 1}}, "initrd: expected a string"},
      {{{"firmware", ""}}, "firmware: empty path"},
      {{{"append", std::string(4096, 'x')}}, "append: 4096 bytes, at most 4095"},
      {{{"append", "a\tb"}}, "append: contains a control character"},
      {{{"disks", {1}}}, "disks[0]: expected an object"},
      {{{"disks", {{{"path", ""}}}}}, "disks[0].path: empty path"},
      {{{"disks", {{{"path", "/a"}, {"format", "qcow2"}}}}}, "disks[0].format: 'qcow2'"},
      {{{"disks", {{{"path", "/a"}, {"readonly", "yes"}}}}}, "disks[0].readonly: expected"},
      {{{"disks", {{{"path", "nbd://h/e"}, {"overlay", "/o"}}}}}, "disks[0]: overlay= is for"},
      {{{"disks", {{{"path", "nbd://h/e"}, {"snapshot", true}}}}}, "disks[0]: snapshot=on is for"},
      {{{"disks", {{{"path", "/a"}, {"timeout_s", 3601}}}}}, "disks[0].timeout_s: 3601"},
      {{{"nets", {{{"hostfwd", json::array()}}}}}, "missing required field 'nets[0].type'"},
      {{{"nets", {{{"type", "tap"}}}}}, "missing required field 'nets[0].ifname'"},
      {{{"nets", {{{"type", "tap"}, {"ifname", "a/b"}}}}}, "nets[0]: tap interface name 'a/b'"},
      {{{"nets", {{{"type", "user"}, {"ifname", "t"}}}}}, "nets[0].ifname: a tap's"},
      {{{"nets", {{{"type", "user"}, {"hostfwd", {"tcp::1-:1", "tcp::1-:2"}}}}}},
       "nets[0]: hostfwd tcp:127.0.0.1:1 given twice"},
      {{{"nets", {{{"type", "user"}, {"hostfwd", {"x"}}}}}}, "nets[0].hostfwd: malformed hostfwd"},
      {{{"nets", {{{"type", "user"}, {"mac", "00:00:00:00:00:00"}}}}}, "nets[0].mac: mac"},
      {{{"nets", {{{"type", "user"}, {"mmds", "on"}}}}}, "nets[0].mmds: expected"},
      {{{"nets", json::array({user, user, user, user, user, user, user, user, user})}},
       "nets: 9 entries, at most 8"},
      {{{"virtio_console", 5}}, "virtio_console: expected a string"},
      {{{"rng", "yes"}}, "rng: expected"},
      {{{"rng_rate_limiter", {{"bandwidth", {{"size", -1}, {"refill_time", 1}}}}}},
       "rng_rate_limiter.bandwidth.size"},
      {{{"balloon", {{"amount", 1}}}}, "unknown field 'balloon.amount'"},
      {{{"vsock", {{"guest_cid", 3}, {"uds_path", ""}}}}, "vsock.uds_path: empty path"},
      {{{"engine", "qemu"}}, "engine: 'qemu' is not an engine"},
      {{{"jit_cache_bytes", 3ULL << 30}}, "jit_cache_bytes"},
      {{{"jit_threshold", 0}}, "jit_threshold: 0 is out of range (1-255)"},
      {{{"cpu_features", {"h"}}}, "cpu_features: expected an object"},
      {{{"cpu_features", {{"avx", true}}}}, "cpu_features: unknown feature 'avx'"},
      {{{"accel", true}}, "accel: true is not"},
      {{{"rng", true},
        {"disks", json::array({{{"path", "/1"}},
                               {{"path", "/2"}},
                               {{"path", "/3"}},
                               {{"path", "/4"}},
                               {{"path", "/5"}},
                               {{"path", "/6"}},
                               {{"path", "/7"}},
                               {{"path", "/8"}}})}},
       "9 virtio devices, the board has 8 slots"},
  };
  for (const Case& c : cases) {
    auto r = vm_config_from_json(c.body);
    ASSERT_FALSE(r.ok()) << c.body.dump();
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos)
        << c.body.dump() << " -> " << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
}

TEST(CpuFeatures, EveryNameIsFoundAndTurnsItsFeature) {
  for (const CpuFeature& f : cpu_features()) {
    ASSERT_EQ(find_cpu_feature(f.name), &f);
    VirtConfig c;
    EXPECT_TRUE(cpu_feature_on(c, f)) << f.name << ": all on by default";
    set_cpu_feature(c, f, false);
    EXPECT_FALSE(cpu_feature_on(c, f)) << f.name;
    set_cpu_feature(c, f, true);
    EXPECT_TRUE(cpu_feature_on(c, f)) << f.name;
  }
  EXPECT_EQ(find_cpu_feature("nope"), nullptr);
}

}  // namespace
}  // namespace vessel
