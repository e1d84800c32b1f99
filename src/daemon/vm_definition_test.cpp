// The daemon's VM definitions: the machine's typed configuration (vmm/config.hpp) with a name,
// the daemon's own rules on top, the files a definition names, the state dirs earlier daemons
// wrote, and what `vessel run` is started with.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "api/http/scratch_dir.hpp"
#include "base/files.hpp"
#include "daemon/snapshot_store.hpp"
#include "daemon/vm_definition.hpp"

namespace vessel::daemon {
namespace {

using nlohmann::json;

VmDefinition definition(std::string kernel) {
  VmDefinition d{"a", default_vm_config(), ""};
  d.config.machine.kernel = std::move(kernel);
  return d;
}

// A client confined to DIR/images, which is made.
api::HostFilePolicy confined_to_images(http::ScratchDir& dir) {
  std::filesystem::create_directories(dir.at("images"));
  auto files = api::HostFilePolicy::confined_to({dir.at("images")}, "--allow-dir");
  EXPECT_TRUE(files.ok());
  return files.ok() ? *files : api::HostFilePolicy();
}

TEST(VmDefinition, DefaultsAndRoundTrip) {
  auto d = parse_vm_definition(json{{"name", "a"}, {"kernel", "/k"}});
  ASSERT_TRUE(d.ok()) << d.error().message;
  const VirtConfig& m = d->config.machine;
  EXPECT_EQ(m.num_harts, 1U);
  EXPECT_EQ(m.ram_size, 128ULL << 20);
  EXPECT_TRUE(m.builtin_sbi);
  EXPECT_EQ(m.engine, rv::default_engine()) << "jit on an x86-64 host, interp elsewhere";
  EXPECT_EQ(d->to_json()["engine"], rv::engine_name(rv::default_engine()));
  EXPECT_EQ(d->to_json()["firmware"], "builtin");
  EXPECT_TRUE(m.disks.empty());
  block::DiskSpec disk = block::disk_of("/disk,1.img", true);
  d->config.machine.disks.push_back(disk);
  d->config.machine.engine = rv::Engine::kInterp;
  d->config.machine.bootargs = "console=ttyS0";
  auto again = parse_vm_definition(d->to_json());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->to_json(), d->to_json());
  EXPECT_EQ(again->config.machine.engine, rv::Engine::kInterp);
  EXPECT_EQ(again->config.machine.disks[0], disk);
  auto jit = parse_vm_definition(json{{"name", "a"}, {"kernel", "/k"}, {"engine", "jit"}});
  if (rv::jit_supported()) {
    ASSERT_TRUE(jit.ok()) << jit.error().message;
    EXPECT_EQ(jit->config.machine.engine, rv::Engine::kJit);
  } else {
    ASSERT_FALSE(jit.ok());
    EXPECT_NE(jit.error().message.find("engine: jit: the translator needs an x86-64 host"),
              std::string::npos)
        << jit.error().message;
  }
}

// Every machine option `vessel run` has is a definition's too: overlays, snapshot=on, MACs,
// forwarded ports, the balloon, vsock, the virtio console, the engine's settings, features.
TEST(VmDefinition, TakesEveryMachineSetting) {
  const json body = json::parse(R"({
    "name": "web", "kernel": "/k", "memory_mib": 256, "cpus": 2, "append": "quiet",
    "disks": [{"path": "/base.img", "overlay": "/vm/o.ovl", "format": "raw"},
              {"path": "/scratch.img", "snapshot": true}],
    "nets": [{"type": "user", "hostfwd": ["tcp::8080-:80"], "mac": "52:54:00:00:00:09"},
             {"type": "tap", "ifname": "tap0"}],
    "balloon": {"amount_mib": 16, "deflate_on_oom": true, "stats_polling_interval_s": 5},
    "vsock": {"guest_cid": 7, "uds_path": "/run/v.sock"}, "virtio_console": "/run/hvc.sock",
    "rng": false, "engine": "interp", "jit_cache_bytes": 4194304, "jit_threshold": 9,
    "cpu_features": {"h": false}, "accel": "tcg"})");
  auto d = parse_vm_definition(body);
  ASSERT_TRUE(d.ok()) << d.error().message;
  const VirtConfig& m = d->config.machine;
  EXPECT_EQ(m.disks[0].overlay, "/vm/o.ovl");
  EXPECT_TRUE(m.disks[0].format_stated);
  EXPECT_TRUE(m.disks[1].snapshot);
  ASSERT_EQ(m.nets[0].hostfwd.size(), 1U);
  EXPECT_EQ(m.nets[0].hostfwd[0].rule(), "tcp:127.0.0.1:8080-:80");
  EXPECT_EQ(m.nets[0].mac, (MacAddress{0x52, 0x54, 0, 0, 0, 9}));
  EXPECT_FALSE(m.nets[0].host_loopback) << "the daemon's default";
  EXPECT_EQ(m.nets[1].ifname, "tap0");
  EXPECT_EQ(m.balloon->amount_mib, 16U);
  EXPECT_EQ(m.vsock->guest_cid, 7U);
  EXPECT_EQ(m.virtio_console_socket, "/run/hvc.sock");
  EXPECT_FALSE(m.rng);
  EXPECT_EQ(m.jit_threshold, 9U);
  EXPECT_EQ(m.extensions & rv::ext_bit(rv::Ext::H), 0U);
  auto again = parse_vm_definition(d->to_json());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->to_json(), d->to_json());
}

// The config.json of a daemon from before the typed configuration (nets as `vessel run --net`
// strings, a restore's overlay) loads as it ran: loopback off unless the string said.
TEST(VmDefinition, AnEarlierDaemonsConfigJsonStillLoads) {
  const json old = json::parse(R"({
    "name": "web", "kernel": "/srv/Image", "firmware": "builtin", "cpus": 2, "memory_mib": 256,
    "engine": "interp", "created_at": "2026-11-26T09:52:00Z", "initrd": "/srv/initrd",
    "append": "console=ttyS0",
    "disks": [{"path": "/state/snapshots/s/disk0.img", "readonly": false, "format": "raw",
               "overlay": "/state/vms/web/disk0.overlay"}, {"path": "/d.img", "readonly": true}],
    "nets": ["user,hostfwd=tcp::2222-:22,restrict=on", "user,loopback=on", "tap=tap0"]})");
  auto d = parse_vm_definition(old);
  ASSERT_TRUE(d.ok()) << d.error().message;
  const VirtConfig& m = d->config.machine;
  EXPECT_EQ(d->created_at, "2026-11-26T09:52:00Z");
  EXPECT_EQ(m.ram_size, 256ULL << 20);
  EXPECT_EQ(m.initrd, "/srv/initrd");
  EXPECT_EQ(m.disks[0].overlay, "/state/vms/web/disk0.overlay");
  EXPECT_TRUE(m.disks[1].read_only);
  ASSERT_EQ(m.nets.size(), 3U);
  EXPECT_EQ(m.nets[0].hostfwd[0].name(), "tcp:127.0.0.1:2222");
  EXPECT_TRUE(m.nets[0].restricted);
  EXPECT_FALSE(m.nets[0].host_loopback);
  EXPECT_TRUE(m.nets[1].host_loopback);
  EXPECT_EQ(m.nets[2].kind, NetSpec::Kind::kTap);
  // Written back typed, and read again the same.
  auto again = parse_vm_definition(d->to_json());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->config.machine.nets, m.nets);
}

TEST(VmDefinition, RefusesWhatIsOutOfBoundsNamingTheField) {
  const json base{{"name", "a"}, {"kernel", "/k"}};
  struct Case {
    json patch;
    const char* expect;
  };
  const json user{{"type", "user"}};
  const Case cases[] = {
      {{{"cpus", 0}}, "cpus: 0 is out of range (1-32)"},
      {{{"cpus", 33}}, "cpus: 33 is out of range (1-32)"},
      {{{"memory_mib", 15}}, "memory_mib: 15 is out of range (16-65536)"},
      {{{"memory_mib", 65537}}, "memory_mib"},
      {{{"memory_mib", "128"}}, "memory_mib: expected an integer"},
      {{{"colour", "red"}}, "unknown field 'colour'"},
      {{{"name", "a.b"}}, "VM name 'a.b'"},
      {{{"kernel", ""}}, "kernel: empty path"},
      {{{"kernel", nullptr}}, "missing required field 'kernel'"},
      {{{"nets", {"bridge"}}}, "nets[0]: unknown backend 'bridge'"},
      {{{"nets", {"user,restrict=maybe"}}}, "nets[0]: restrict 'maybe': expected on or off"},
      {{{"nets", {"user", "user,loopback=on,loopback=off"}}}, "nets[1]: loopback given twice"},
      {{{"nets", {"user,hostfwd=tcp:0.0.0.0:2222-:22"}}},
       "nets[0].hostfwd tcp:0.0.0.0:2222: the daemon's VMs forward ports of 127.0.0.1 only"},
      {{{"nets", {{{"type", "user"}, {"hostfwd", {"tcp:10.1.1.1:80-:80"}}}}}},
       "nets[0].hostfwd tcp:10.1.1.1:80: the daemon's VMs forward ports of 127.0.0.1 only"},
      {{{"nets", {"user,hostfwd=tcp::0-:22"}}}, "nets[0]: hostfwd 'tcp::0-:22'"},
      {{{"nets", {{{"type", "user"}, {"hostfwd", {"tcp::99999-:22"}}}}}},
       "nets[0].hostfwd: hostfwd 'tcp::99999-:22': host port 99999 out of range"},
      {{{"nets", {{{"type", "user"}, {"mac", "01:00:00:00:00:01"}}}}},
       "nets[0].mac: mac '01:00:00:00:00:01': a multicast address"},
      {{{"nets", {{{"type", "tap"}, {"ifname", "tap0"}, {"hostfwd", json::array()}}}}},
       "nets[0].hostfwd: a user network's, not a tap's"},
      {{{"nets", {{{"type", "bridge"}}}}}, "nets[0].type: 'bridge' is not \"user\" or \"tap\""},
      {{{"nets", {{{"type", 1}}}}}, "nets[0].type: expected a string"},
      {{{"nets", {{{"type", "user"}, {"dns", "1.1.1.1"}}}}}, "unknown field 'nets[0].dns'"},
      {{{"nets", {"tap=this-name-is-too-long"}}}, "nets[0]"},
      {{{"nets", json::array({user, user, user, user, user, user, user, user, user})}},
       "nets: 9 entries, at most 8"},
      {{{"nets", {user, user, user, user, user, user, user, user}}},
       "9 virtio devices, the board has 8 slots"},
      {{{"disks", {{{"path", "/a"}, {"cache", true}}}}}, "unknown field 'disks[0].cache'"},
      {{{"disks", {{{"readonly", true}}}}}, "missing required field 'disks[0].path'"},
      {{{"disks", {{{"path", "/a"}, {"overlay", "/a"}}}}},
       "disks[0]: the overlay cannot be the disk image itself"},
      {{{"disks", {{{"path", "/a"}, {"overlay", "/o"}, {"snapshot", true}}}}},
       "disks[0]: snapshot=on makes its own temporary overlay"},
      {{{"disks", {{{"path", "/a"}, {"timeout_s", 0}}}}}, "disks[0].timeout_s: 0 is out of range"},
      {{{"disks", "x"}}, "disks: expected an array"},
      {{{"append", std::string(1024, 'x')}}, "append: 1024 bytes"},
      {{{"append", "a\nb"}}, "append: contains a control character"},
      {{{"engine", "bogus"}}, "engine: 'bogus' is not an engine (jit or interp)"},
      {{{"engine", ""}}, "engine: '' is not an engine"},
      {{{"engine", 1}}, "engine: expected a string"},
      {{{"jit_threshold", 256}}, "jit_threshold: 256 is out of range (1-255)"},
      {{{"jit_cache_bytes", 1}}, "jit_cache_bytes: 1 is out of range"},
      {{{"cpu_features", {{"zz", true}}}}, "cpu_features: unknown feature 'zz'"},
      {{{"cpu_features", {{"h", 1}}}}, "cpu_features.h: expected a boolean"},
      {{{"balloon", {{"amount_mib", 1000}}}}, "balloon.amount_mib: 1000 is more than"},
      {{{"balloon", {{"stats_polling_interval_s", 86401}}}}, "balloon.stats_polling_interval_s"},
      {{{"vsock", {{"guest_cid", 2}, {"uds_path", "/v"}}}}, "vsock.guest_cid: 2 is out of range"},
      {{{"vsock", {{"guest_cid", 3}}}}, "missing required field 'vsock.uds_path'"},
      {{{"virtio_console", ""}}, "virtio_console: empty path"},
      {{{"accel", "hvf"}}, "accel: \"hvf\" is not \"tcg\" or \"kvm\""},
      {{{"memory_mib", 16}, {"cpus", 32}}, "cpus 32 needs at least 78M of memory, not 16M"},
      {{{"memory_mib", 64}, {"memory_bytes", 67108864}}, "memory_mib and memory_bytes exclude"},
  };
  for (const Case& c : cases) {
    json j = base;
    j.update(c.patch);
    auto d = parse_vm_definition(j);
    ASSERT_FALSE(d.ok()) << j.dump();
    EXPECT_NE(d.error().message.find(c.expect), std::string::npos)
        << j.dump() << " -> " << d.error().message;
    EXPECT_EQ(d.error().message.find('\n'), std::string::npos) << d.error().message;
  }
  json nine_disks = base;
  nine_disks["disks"] = json::array();
  for (int i = 0; i < 9; ++i) nine_disks["disks"].push_back({{"path", "/d"}});
  auto d = parse_vm_definition(nine_disks);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message, "disks: 9 entries, at most 8");
  EXPECT_FALSE(parse_vm_definition(std::nullopt).ok());
  EXPECT_FALSE(parse_vm_definition(json::array()).ok());
}

TEST(VmDefinition, FilesMustBeRegularFiles) {
  http::ScratchDir dir;
  auto files = api::HostFilePolicy::confined_to({dir.path()}, "--allow-dir");
  ASSERT_TRUE(files.ok());
  VmDefinition d = definition(dir.file("Image"));
  EXPECT_TRUE(resolve_vm_files(d, *files).ok());
  d.config.machine.initrd = dir.path();
  auto r = resolve_vm_files(d, *files);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, fmt::format("initrd: {}: not a regular file", dir.path()));
  d.config.machine.initrd.reset();
  d.config.machine.disks.push_back(block::disk_of(dir.at("missing.img"), false));
  r = resolve_vm_files(d, *files);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("disks[0].path"), std::string::npos);
  EXPECT_NE(r.error().message.find("No such file"), std::string::npos);
}

// A qcow2 named as a raw disk is refused at create (400), as `vessel run` would refuse it at
// start, unless the definition says "format": "raw"; the VM is then told so too.
TEST(VmDefinition, NonRawImagesNeedFormatRaw) {
  http::ScratchDir dir;
  auto files = api::HostFilePolicy::confined_to({dir.path()}, "--allow-dir");
  ASSERT_TRUE(files.ok());
  const std::string qcow2 = dir.at("q.qcow2");
  std::ofstream(qcow2, std::ios::binary)
      << std::string("QFI\xfb\0\0\0\3", 8) << std::string(4088, '\0');
  VmDefinition d = definition(dir.file("Image"));
  d.config.machine.disks.push_back(block::disk_of(qcow2, true));
  auto r = resolve_vm_files(d, *files);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().message.starts_with(fmt::format("disks[0].path: {}: a qcow2 image", qcow2)))
      << r.error().message;
  EXPECT_NE(r.error().message.find("\"format\": \"raw\""), std::string::npos);

  json body{{"name", "a"},
            {"kernel", *d.config.machine.kernel},
            {"disks", {{{"path", qcow2}, {"format", "raw"}}}}};
  auto stated = parse_vm_definition(body);
  ASSERT_TRUE(stated.ok()) << stated.error().message;
  EXPECT_TRUE(stated->config.machine.disks[0].format_stated);
  EXPECT_EQ(stated->to_json()["disks"][0]["format"], "raw");
  r = resolve_vm_files(*stated, *files);
  ASSERT_TRUE(r.ok()) << r.error().message;

  body["disks"][0]["format"] = "qcow2";
  auto other = parse_vm_definition(body);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().message,
            "disks[0].format: 'qcow2' is not one Vessel reads (only \"raw\")");
}

// As /etc/shadow once became a disk: only files in the allowed directories, resolved, and
// handed to `vessel run` resolved.
TEST(VmDefinition, FilesMustBeInTheAllowedDirectories) {
  http::ScratchDir dir;
  const api::HostFilePolicy files = confined_to_images(dir);
  VmDefinition d = definition(dir.file("images/Image"));
  std::filesystem::create_symlink(dir.file("images/disk.img"), dir.at("images/link.img"));
  d.config.machine.disks.push_back(block::disk_of(dir.at("images/link.img"), false));
  auto r = resolve_vm_files(d, files);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->config.machine.disks[0].path, dir.at("images/disk.img"));

  for (const auto& [field, path] : std::vector<std::pair<std::string, std::string>>{
           {"kernel", dir.file("Image")},
           {"initrd", "/etc/passwd"},
           {"firmware", "/etc/hostname"},
           {"disks[1].path", "/etc/shadow"},
           {"disks[1].path", dir.at("images/../Image")},
           {"disks[1].overlay", dir.at("elsewhere.ovl")}}) {
    VmDefinition bad = d;
    VirtConfig& m = bad.config.machine;
    if (field == "kernel") m.kernel = path;
    if (field == "initrd") m.initrd = path;
    if (field == "firmware") m.firmware = path;
    if (field == "disks[1].path") m.disks.push_back(block::disk_of(path, true));
    if (field == "disks[1].overlay") {
      m.disks.push_back(block::disk_of(dir.at("images/disk.img")));
      m.disks.back().overlay = path;
    } else if (access(path.c_str(), F_OK) != 0) {
      continue;  // a host without that file
    }
    r = resolve_vm_files(bad, files);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_TRUE(r.error().message.starts_with(field + ": " + path)) << r.error().message;
    EXPECT_NE(r.error().message.find("outside the directories a client may use"), std::string::npos)
        << r.error().message;
  }
}

// `vessel create --disk BASE,overlay=FILE`: a client's overlay over a clean base image, made
// by the VM where the client may write; the base is only read.
TEST(VmDefinition, AClientsOverlayIsAFileItMayCreate) {
  http::ScratchDir dir;
  const api::HostFilePolicy files = confined_to_images(dir);
  VmDefinition d = definition(dir.file("images/Image"));
  block::DiskSpec disk = block::disk_of(dir.file("images/base.img"));
  disk.overlay = dir.at("images/vm,1.ovl");
  d.config.machine.disks.push_back(disk);
  auto r = resolve_vm_files(d, files, dir.at("state"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->config.machine.disks[0].overlay, disk.overlay);
  // Not in the daemon's state directory, which only its restores and clones use.
  d.config.machine.disks[0].overlay = dir.at("state/vms/x/o.ovl");
  r = resolve_vm_files(d, files, dir.at("state"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("disks[0].overlay: only the daemon's restores and clones"),
            std::string::npos)
      << r.error().message;
}

TEST(VmDefinition, OnlyTheDaemonGivesADiskAnOverlayInItsStateDir) {
  http::ScratchDir dir;
  auto files = api::HostFilePolicy::confined_to({dir.path()}, "--allow-dir");
  ASSERT_TRUE(files.ok());
  VmDefinition d = definition(dir.at("k"));
  { std::ofstream(*d.config.machine.kernel) << "k"; }
  block::DiskSpec disk = block::disk_of("/state/snapshots/s/disk0.img");
  disk.overlay = "/state/vms/c/disk0.overlay";
  d.config.machine.disks = {disk};
  auto r = resolve_vm_files(d, *files, "/state");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->config.machine.disks[0], disk);
  // Files outside it: checked as a client's (and these are not in the allowed directory).
  d.config.machine.disks[0].overlay = "/state/vms/../../etc/o";
  EXPECT_FALSE(resolve_vm_files(d, *files, "/state").ok());
  d.config.machine.disks[0].overlay = "/elsewhere/o";
  EXPECT_FALSE(resolve_vm_files(d, *files, "/state").ok());
  // The field round-trips through config.json.
  auto parsed = parse_vm_definition(VmDefinition{d.name, d.config, ""}.to_json());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->config.machine.disks[0].overlay, "/elsewhere/o");
}

TEST(VmDefinition, RunArgumentsNameTheMachineFileAndThePaths) {
  http::ScratchDir dir;
  VmDefinition d = definition("/k");
  d.config.machine.num_harts = 2;
  d.config.machine.disks = {block::disk_of("/a.img"), block::disk_of("/b,c.img", true)};
  const VmPaths paths{dir.path()};
  const std::vector<std::string> want = {"run",
                                         "--api-sock",
                                         paths.api_socket(),
                                         "--console-socket",
                                         paths.console_socket(),
                                         "--console-log",
                                         paths.console_log(),
                                         "--exit-status-file",
                                         paths.exit_status(),
                                         "--log-file",
                                         paths.vmm_log(),
                                         "--api-allow-dir",
                                         dir.path() + "/staging",
                                         "--config",
                                         paths.machine()};
  EXPECT_EQ(vm_run_arguments(paths), want);
  // A restore: the machine is the snapshot's (the engine settings the file's).
  auto with_restore = want;
  with_restore.insert(with_restore.end(), {"--restore", dir.path() + "/restore"});
  EXPECT_EQ(vm_run_arguments(paths, dir.path() + "/restore"), with_restore);
  // The file `vessel run --config` reads: the definition's machine, whole.
  ASSERT_TRUE(write_machine_file(d, paths).ok());
  auto text = read_small_file(paths.machine(), 1 << 20);
  ASSERT_TRUE(text.ok());
  auto read = vm_config_from_json(json::parse(*text));
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(to_json(*read), to_json(d.config));
}

TEST(Snapshots, ACloneGetsItsOwnForwardedPorts) {
  // The clone's rules replace every user network's; the first user network gets them.
  NetSpec tap;
  tap.kind = NetSpec::Kind::kTap;
  tap.ifname = "t0";
  NetSpec user;
  user.restricted = true;
  user.hostfwd = {*parse_hostfwd("tcp::80-:80")};
  NetSpec other;
  other.hostfwd = {*parse_hostfwd("udp::53-:53")};
  auto nets = replace_hostfwd({tap, user, other}, {"tcp::8081-:80", "tcp::2222-:22"});
  ASSERT_TRUE(nets.ok()) << nets.error().message;
  ASSERT_EQ(nets->size(), 3U);
  EXPECT_EQ((*nets)[0], tap);
  ASSERT_EQ((*nets)[1].hostfwd.size(), 2U);
  EXPECT_EQ((*nets)[1].hostfwd[0].rule(), "tcp:127.0.0.1:8081-:80");
  EXPECT_TRUE((*nets)[1].restricted);
  EXPECT_TRUE((*nets)[2].hostfwd.empty());
  nets = replace_hostfwd({user}, {});
  ASSERT_TRUE(nets.ok());
  EXPECT_TRUE((*nets)[0].hostfwd.empty());
  EXPECT_FALSE(replace_hostfwd({tap}, {"tcp::1-:1"}).ok());
  EXPECT_FALSE(replace_hostfwd({user}, {"tcp::1"}).ok());
  EXPECT_TRUE(replace_hostfwd({}, {}).ok());
}

}  // namespace
}  // namespace vessel::daemon
