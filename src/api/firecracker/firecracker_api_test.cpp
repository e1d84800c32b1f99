// Every endpoint of the per-VM API and every phase rule, against a fake VM.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "api/firecracker/api_test_support.hpp"

namespace vessel::api {
namespace {

using http::Method;
using nlohmann::json;

// The engine a VirtConfig{} runs: jit on an x86-64 host, interp elsewhere.
const char* const kDefaultEngine = rv::engine_name(rv::default_engine());

class ApiTest : public ::testing::Test {
 protected:
  ScratchDir dir;
  std::string kernel = dir.file("Image");
  std::string initrd = dir.file("initrd.cpio.gz");
  std::string rootfs = dir.file("rootfs.ext4");
  std::string data = dir.file("data.img");
  ApiHarness h;

  http::Response call(Method m, const std::string& path, std::optional<json> body = std::nullopt) {
    return h.call(m, path, std::move(body));
  }
  void put_boot_source() {
    expect_done(call(Method::kPut, "/boot-source", json{{"kernel_image_path", kernel}}));
  }
  void start() {
    put_boot_source();
    expect_done(call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}));
    ASSERT_EQ(h.vm.state(), VmState::kRunning);
  }
  std::string state() { return call(Method::kGet, "/").body->at("state").get<std::string>(); }
};

// ----------------------------------------------------------------------- describe, version

TEST_F(ApiTest, DescribeInstanceFollowsTheState) {
  http::Response r = call(Method::kGet, "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(*r.body, (json{{"id", "test-vm"},
                           {"state", "Not started"},
                           {"vmm_version", vessel_version()},
                           {"app_name", "vessel"},
                           {"vessel_engine", kDefaultEngine}}));
  start();
  EXPECT_EQ(state(), "Running");
  expect_done(call(Method::kPatch, "/vm", json{{"state", "Paused"}}));
  EXPECT_EQ(state(), "Paused");
  expect_done(call(Method::kPatch, "/vm", json{{"state", "Resumed"}}));
  EXPECT_EQ(state(), "Running");
}

TEST_F(ApiTest, Version) {
  http::Response r = call(Method::kGet, "/version");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(*r.body, (json{{"firecracker_version", vessel_version()}}));
  EXPECT_FALSE(std::string(vessel_version()).empty());
}

// -------------------------------------------------------------------------- machine-config

TEST_F(ApiTest, MachineConfigStartsFromTheBaseConfig) {
  VirtConfig base;
  base.num_harts = 3;
  base.ram_size = 256ULL << 20;
  base.engine = rv::Engine::kInterp;
  ApiHarness other(base);
  EXPECT_EQ(*other.call(Method::kGet, "/machine-config").body, (json{{"vcpu_count", 3},
                                                                     {"mem_size_mib", 256},
                                                                     {"smt", false},
                                                                     {"track_dirty_pages", false},
                                                                     {"huge_pages", "None"},
                                                                     {"vessel_engine", "interp"}}));
  EXPECT_EQ(other.call(Method::kGet, "/").body->at("vessel_engine"), "interp");
}

TEST_F(ApiTest, MachineConfigPutAndPatch) {
  expect_done(
      call(Method::kPut, "/machine-config", json{{"vcpu_count", 2}, {"mem_size_mib", 1024}}));
  expect_done(call(Method::kPatch, "/machine-config", json{{"vcpu_count", 4}}));
  expect_done(call(Method::kPatch, "/machine-config", json::object()));
  EXPECT_EQ(*call(Method::kGet, "/machine-config").body, (json{{"vcpu_count", 4},
                                                               {"mem_size_mib", 1024},
                                                               {"smt", false},
                                                               {"track_dirty_pages", false},
                                                               {"huge_pages", "None"},
                                                               {"vessel_engine", kDefaultEngine}}));
  start();
  EXPECT_EQ(h.vm.started_with->num_harts, 4U);
  EXPECT_EQ(h.vm.started_with->ram_size, 1024ULL << 20);
}

TEST_F(ApiTest, MachineConfigValuesAreChecked) {
  const auto put = [&](json body) { return call(Method::kPut, "/machine-config", body); };
  expect_fault(put({{"vcpu_count", 0}, {"mem_size_mib", 512}}),
               "vcpu_count: 0 is out of range (1-32)");
  expect_fault(put({{"vcpu_count", 33}, {"mem_size_mib", 512}}), "vcpu_count: 33 is out of range");
  expect_fault(put({{"vcpu_count", "2"}, {"mem_size_mib", 512}}),
               "vcpu_count: expected an integer, got string");
  expect_fault(put({{"vcpu_count", 1.5}, {"mem_size_mib", 512}}),
               "vcpu_count: expected an integer, got a fractional number");
  expect_fault(put({{"vcpu_count", true}, {"mem_size_mib", 512}}),
               "vcpu_count: expected an integer");
  expect_fault(put({{"vcpu_count", -1}, {"mem_size_mib", 512}}), "vcpu_count: -1 is out of range");
  expect_fault(put({{"vcpu_count", 1}, {"mem_size_mib", 15}}),
               "mem_size_mib: 15 is out of range (16-65536)");
  expect_fault(put({{"vcpu_count", 1}, {"mem_size_mib", 18446744073709551615ULL}}),
               "mem_size_mib: 18446744073709551615 is out of range");
  expect_fault(put({{"vcpu_count", 1}, {"mem_size_mib", 512}, {"smt", true}}), "smt:");
  // Dirty pages are always tracked: true is taken (and echoed), for Diff snapshots.
  expect_done(put({{"vcpu_count", 1}, {"mem_size_mib", 512}, {"track_dirty_pages", true}}));
  EXPECT_EQ(call(Method::kGet, "/machine-config").body->at("track_dirty_pages"), true);
  expect_fault(put({{"vcpu_count", 1}, {"mem_size_mib", 512}, {"cpu_template", "T2"}}),
               "cpu_template: 'T2':");
  expect_fault(put({{"vcpu_count", 1}, {"mem_size_mib", 512}, {"huge_pages", "2M"}}),
               "huge_pages: '2M':");
  expect_fault(put({{"vcpu_count", 1}, {"mem_size_mib", 512}, {"hugepages", "None"}}),
               "unknown field 'hugepages' (known: vcpu_count, mem_size_mib, smt, "
               "track_dirty_pages, huge_pages, cpu_template, vessel_engine)");
  expect_fault(put({{"mem_size_mib", 512}}), "missing required field 'vcpu_count'");
  expect_fault(put({{"vcpu_count", 1}}), "missing required field 'mem_size_mib'");
  expect_fault(put(json::array()), "the body must be a JSON object, not array");
  expect_fault(call(Method::kPut, "/machine-config"), "a JSON object body is required");
  expect_fault(call(Method::kPatch, "/machine-config", json{{"vcpu_count", 64}}), "vcpu_count");
  // Nothing of a refused request was kept.
  EXPECT_EQ(call(Method::kGet, "/machine-config").body->at("vcpu_count"), 1);
  EXPECT_EQ(call(Method::kGet, "/machine-config").body->at("mem_size_mib"), 512);
}

TEST_F(ApiTest, EngineIsChosenBeforeTheStartAndShown) {
  expect_done(call(Method::kPatch, "/machine-config", json{{"vessel_engine", "interp"}}));
  EXPECT_EQ(call(Method::kGet, "/machine-config").body->at("vessel_engine"), "interp");
  EXPECT_EQ(call(Method::kGet, "/").body->at("vessel_engine"), "interp");
  // A PUT without it goes back to `vessel run --engine`'s (the base's).
  expect_done(call(Method::kPut, "/machine-config", json{{"vcpu_count", 1}, {"mem_size_mib", 64}}));
  EXPECT_EQ(call(Method::kGet, "/machine-config").body->at("vessel_engine"), kDefaultEngine);
  expect_done(call(Method::kPut, "/machine-config",
                   json{{"vcpu_count", 1}, {"mem_size_mib", 64}, {"vessel_engine", "interp"}}));

  // A bad value: one line naming the field, and nothing changes (vcpu_count neither).
  const auto patch = [&](json body) { return call(Method::kPatch, "/machine-config", body); };
  expect_fault(patch({{"vcpu_count", 2}, {"vessel_engine", "bogus"}}),
               "vessel_engine: 'bogus' is not an engine (jit or interp)");
  expect_fault(patch({{"vessel_engine", 1}}), "vessel_engine: expected a string");
  expect_fault(patch({{"vessel_engine", "JIT"}}), "vessel_engine: 'JIT' is not an engine");
  const http::Response jit = patch({{"vessel_engine", "jit"}});
  if (rv::jit_supported()) {
    expect_done(jit);
    expect_done(patch({{"vessel_engine", "interp"}}));
  } else {
    expect_fault(jit, "vessel_engine: jit: the translator needs an x86-64 host");
  }
  EXPECT_EQ(call(Method::kGet, "/machine-config").body->at("vcpu_count"), 1);
  EXPECT_EQ(call(Method::kGet, "/machine-config").body->at("vessel_engine"), "interp");

  start();
  EXPECT_EQ(h.vm.started_with->engine, rv::Engine::kInterp);
  EXPECT_EQ(call(Method::kGet, "/").body->at("vessel_engine"), "interp");
  EXPECT_EQ(call(Method::kGet, "/vessel/stats").body->at("engine"), "interp");
  expect_fault(patch({{"vessel_engine", "interp"}}), "pre-boot setting");
}

TEST_F(ApiTest, NullCountsAsAbsent) {
  expect_done(call(Method::kPut, "/machine-config",
                   json{{"vcpu_count", 2}, {"mem_size_mib", 64}, {"smt", nullptr}}));
  expect_fault(
      call(Method::kPut, "/machine-config", json{{"vcpu_count", nullptr}, {"mem_size_mib", 64}}),
      "missing required field 'vcpu_count'");
}

// ----------------------------------------------------------------------------- boot-source

TEST_F(ApiTest, BootSourceFilesMustBeRegularFiles) {
  const auto put = [&](json body) { return call(Method::kPut, "/boot-source", body); };
  expect_fault(put(json::object()), "missing required field 'kernel_image_path'");
  expect_fault(put({{"kernel_image_path", dir.path() + "/absent"}}),
               "kernel_image_path: " + dir.path() + "/absent: No such file or directory");
  expect_fault(put({{"kernel_image_path", dir.path()}}),
               "kernel_image_path: " + dir.path() + ": not a regular file");
  expect_fault(put({{"kernel_image_path", ""}}), "kernel_image_path: empty path");
  expect_fault(put({{"kernel_image_path", std::string(5000, 'a')}}), "path longer than 4096");
  expect_fault(put({{"kernel_image_path", kernel + "\n"}}), "control character");
  expect_fault(put({{"kernel_image_path", kernel}, {"initrd_path", "/dev/null"}}),
               "initrd_path: /dev/null: not a regular file");
  expect_fault(put({{"kernel_image_path", 7}}),
               "kernel_image_path: expected a string, got an integer");
  expect_fault(put({{"kernel_image_path", kernel}, {"boot_args", "a\tb"}}),
               "boot_args: contains a control character");
  expect_fault(put({{"kernel_image_path", kernel}, {"boot_args", std::string(1024, 'x')}}),
               "boot_args: longer than 1023 bytes");
  expect_fault(put({{"kernel_image_path", kernel}, {"vessel_firmware", dir.path() + "/nope"}}),
               "vessel_firmware: ");
  expect_fault(put({{"kernel_image_path", kernel}, {"kernel_args", "x"}}),
               "unknown field 'kernel_args'");
  EXPECT_FALSE(call(Method::kGet, "/vm/config").body->contains("boot-source"));
}

TEST_F(ApiTest, BootSourceReachesTheMachine) {
  const std::string firmware = dir.file("fw_dynamic.bin");
  expect_done(call(Method::kPut, "/boot-source",
                   json{{"kernel_image_path", kernel},
                        {"initrd_path", initrd},
                        {"boot_args", "console=ttyS0 quiet"},
                        {"vessel_firmware", firmware}}));
  // A second PUT replaces the first.
  expect_done(call(Method::kPut, "/boot-source",
                   json{{"kernel_image_path", kernel},
                        {"initrd_path", initrd},
                        {"boot_args", "console=ttyS0"},
                        {"vessel_firmware", "builtin"}}));
  expect_done(call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}));
  const VirtConfig& c = *h.vm.started_with;
  EXPECT_EQ(c.kernel, kernel);
  EXPECT_EQ(c.initrd, initrd);
  EXPECT_EQ(c.bootargs, "console=ttyS0");
  EXPECT_TRUE(c.builtin_sbi);
  EXPECT_FALSE(c.firmware.has_value());
}

TEST_F(ApiTest, AKernelOnTheCommandLineIsTheBootSource) {
  VirtConfig base;
  base.kernel = kernel;
  base.initrd = initrd;
  base.bootargs = "console=ttyS0";
  ApiHarness cli(base);
  EXPECT_EQ(cli.call(Method::kGet, "/vm/config").body->at("boot-source"),
            (json{{"kernel_image_path", kernel}, {"initrd_path", initrd}}));
  EXPECT_EQ(cli.call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}).status, 204);
  EXPECT_EQ(cli.vm.started_with->kernel, kernel);
  EXPECT_EQ(cli.vm.started_with->initrd, initrd);
  EXPECT_EQ(cli.vm.started_with->bootargs, "console=ttyS0");
}

TEST_F(ApiTest, FirmwareDefaultsToTheBaseAndCanBeAFileOrNone) {
  VirtConfig base;
  base.firmware = "/usr/lib/fw.bin";
  base.bootargs = "console=ttyS0 from-cli";
  ApiHarness a(base);
  a.call(Method::kPut, "/boot-source", json{{"kernel_image_path", kernel}});
  EXPECT_EQ(a.call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}).status, 204);
  EXPECT_EQ(a.vm.started_with->firmware, "/usr/lib/fw.bin");
  EXPECT_FALSE(a.vm.started_with->builtin_sbi);
  EXPECT_EQ(a.vm.started_with->bootargs, "console=ttyS0 from-cli");

  ApiHarness b(base);
  b.call(Method::kPut, "/boot-source",
         json{{"kernel_image_path", kernel}, {"vessel_firmware", "none"}});
  EXPECT_EQ(b.call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}).status, 204);
  EXPECT_FALSE(b.vm.started_with->firmware.has_value());
  EXPECT_FALSE(b.vm.started_with->builtin_sbi);
}

// ---------------------------------------------------------------------------------- drives

TEST_F(ApiTest, DrivesGoRootFirstWithTheirFlags) {
  expect_done(call(Method::kPut, "/drives/data",
                   json{{"drive_id", "data"},
                        {"path_on_host", data},
                        {"is_root_device", false},
                        {"is_read_only", true}}));
  expect_done(call(Method::kPut, "/drives/rootfs",
                   json{{"drive_id", "rootfs"},
                        {"path_on_host", rootfs},
                        {"is_root_device", true},
                        {"is_read_only", false}}));
  put_boot_source();
  expect_done(call(Method::kPut, "/boot-source",
                   json{{"kernel_image_path", kernel}, {"boot_args", "console=ttyS0"}}));
  expect_done(call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}));
  const VirtConfig& c = *h.vm.started_with;
  ASSERT_EQ(c.disks.size(), 2U);
  EXPECT_EQ(c.disks[0], (block::disk_of(rootfs, false)));
  EXPECT_EQ(c.disks[1], (block::disk_of(data, true)));
  EXPECT_EQ(c.bootargs, "console=ttyS0 root=/dev/vda rw");
}

TEST_F(ApiTest, ADrivePathWithCommasIsTakenWhole) {
  // The machine gets typed disks, not --disk option strings: ",readonly" or ",overlay=" in a
  // file's name is part of the name.
  const std::string comma = dir.file("a,overlay=b,readonly.img");
  expect_done(call(Method::kPut, "/drives/rootfs",
                   json{{"drive_id", "rootfs"},
                        {"path_on_host", comma},
                        {"is_root_device", true},
                        {"is_read_only", false}}));
  put_boot_source();
  expect_done(call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}));
  ASSERT_EQ(h.vm.started_with->disks.size(), 1U);
  EXPECT_EQ(h.vm.started_with->disks[0], (block::disk_of(comma, false)));
}

TEST_F(ApiTest, ReadOnlyRootAndBootArgsThatNameTheRoot) {
  expect_done(call(Method::kPut, "/drives/rootfs",
                   json{{"drive_id", "rootfs"},
                        {"path_on_host", rootfs},
                        {"is_root_device", true},
                        {"is_read_only", true}}));
  expect_done(call(Method::kPut, "/boot-source", json{{"kernel_image_path", kernel}}));
  expect_done(call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}));
  EXPECT_EQ(h.vm.started_with->bootargs, "root=/dev/vda ro");

  ApiHarness other;
  other.call(Method::kPut, "/drives/rootfs",
             json{{"drive_id", "rootfs"}, {"path_on_host", rootfs}, {"is_root_device", true}});
  other.call(Method::kPut, "/boot-source",
             json{{"kernel_image_path", kernel}, {"boot_args", "console=ttyS0 root=/dev/vda1"}});
  EXPECT_EQ(other.call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}).status,
            204);
  EXPECT_EQ(other.vm.started_with->bootargs, "console=ttyS0 root=/dev/vda1");
}

TEST_F(ApiTest, DriveValuesAreChecked) {
  const auto put = [&](const std::string& id, json body) {
    return call(Method::kPut, "/drives/" + id, body);
  };
  const json good{{"drive_id", "d1"}, {"path_on_host", data}, {"is_root_device", false}};
  expect_fault(put("d2", good), "drive_id 'd1' in the body does not match 'd2' in the path");
  expect_fault(put("d.1", good), "drive_id: 1 to 64 characters");
  expect_fault(put(std::string(65, 'a'), good), "drive_id: 1 to 64 characters");
  expect_fault(put("a%2Fb", good), "drive_id: 1 to 64 characters");
  json no_root = good;
  no_root.erase("is_root_device");
  expect_fault(put("d1", no_root), "missing required field 'is_root_device'");
  json no_path = good;
  no_path.erase("path_on_host");
  expect_fault(put("d1", no_path), "missing required field 'path_on_host'");
  json absent = good;
  absent["path_on_host"] = dir.path() + "/none.img";
  expect_fault(put("d1", absent), "path_on_host: " + dir.path() + "/none.img: No such file");
  json extra = good;
  extra["rate_limiter"] = json::object();
  expect_fault(put("d1", extra), "unknown field 'rate_limiter'");
  json ro = good;
  ro["is_read_only"] = "yes";
  expect_fault(put("d1", ro), "is_read_only: expected true or false, got string");
  EXPECT_TRUE(call(Method::kGet, "/vm/config").body->at("drives").empty());
}

// As a client once attached the VM process's own memory as a disk.
TEST_F(ApiTest, KernelFilesAreNeverDrivesOrImages) {
  const auto drive = [&](const std::string& path) {
    return call(Method::kPut, "/drives/d",
                json{{"drive_id", "d"}, {"path_on_host", path}, {"is_root_device", false}});
  };
  expect_fault(drive("/proc/self/mem"), "path_on_host: /proc/self/mem (/proc/");
  expect_fault(drive("/proc/self/mem"), "a file of the kernel's");
  expect_fault(drive("/dev/zero"), "path_on_host: /dev/zero: not a regular file or block device");
  expect_fault(
      call(Method::kPut, "/boot-source", json{{"kernel_image_path", "/proc/self/environ"}}),
      "kernel_image_path: /proc/self/environ (/proc/");
  EXPECT_TRUE(call(Method::kGet, "/vm/config").body->at("drives").empty());
}

// `vessel run --api-sock --api-allow-dir DIR`: the API names files in DIR only, checked again
// at the start, where the machine gets them resolved.
TEST_F(ApiTest, AllowedDirectoriesConfineWhatRequestsName) {
  std::filesystem::create_directories(dir.at("images"));
  auto policy = HostFilePolicy::confined_to({dir.at("images")}, "--api-allow-dir");
  ASSERT_TRUE(policy.ok()) << policy.error().message;
  ApiHarness confined({}, *policy);
  const auto put = [&](const std::string& path, const std::string& what) {
    if (what == "drive") {
      return confined.call(
          Method::kPut, "/drives/d",
          json{{"drive_id", "d"}, {"path_on_host", path}, {"is_root_device", false}});
    }
    return confined.call(Method::kPut, "/boot-source", json{{"kernel_image_path", path}});
  };
  expect_fault(put(data, "drive"), "path_on_host: " + data + ": outside the directories");
  expect_fault(put("/etc/shadow", "drive"), "path_on_host: /etc/shadow: outside");
  expect_fault(put(kernel, "kernel"), "kernel_image_path: " + kernel + ": outside");
  const std::string image = dir.file("images/disk.img");
  const std::string link = dir.at("images/link.img");
  std::filesystem::create_symlink(image, link);
  const std::string kernel_inside = dir.file("images/Image");
  expect_done(put(link, "drive"));
  expect_done(put(kernel_inside, "kernel"));
  // Pointed elsewhere after the PUT: the start says so, and nothing starts.
  std::filesystem::remove(link);
  std::filesystem::create_symlink(data, link);
  const auto start = [&] {
    return confined.call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}});
  };
  expect_fault(start(), "path_on_host: " + link + " (" + data + "): outside");
  EXPECT_FALSE(confined.vm.started_with.has_value());
  std::filesystem::remove(link);
  std::filesystem::create_symlink(image, link);
  expect_done(start());
  EXPECT_EQ(confined.vm.started_with->disks, (std::vector<block::DiskSpec>{block::disk_of(image)}));
  EXPECT_EQ(confined.vm.started_with->kernel, kernel_inside);
}

TEST_F(ApiTest, OneRootDriveAndOneDrivePerFile) {
  expect_done(call(Method::kPut, "/drives/a",
                   json{{"drive_id", "a"}, {"path_on_host", rootfs}, {"is_root_device", true}}));
  expect_fault(call(Method::kPut, "/drives/b",
                    json{{"drive_id", "b"}, {"path_on_host", data}, {"is_root_device", true}}),
               "is_root_device: drive 'a' is already the root device");
  expect_fault(call(Method::kPut, "/drives/b",
                    json{{"drive_id", "b"}, {"path_on_host", rootfs}, {"is_root_device", false}}),
               "is already drive 'a'");
  // The same id replaces its drive, root or not.
  expect_done(call(Method::kPut, "/drives/a",
                   json{{"drive_id", "a"}, {"path_on_host", data}, {"is_root_device", false}}));
  expect_done(call(Method::kPut, "/drives/b",
                   json{{"drive_id", "b"}, {"path_on_host", rootfs}, {"is_root_device", true}}));
  const json drives = call(Method::kGet, "/vm/config").body->at("drives");
  ASSERT_EQ(drives.size(), 2U);
  EXPECT_EQ(drives[0], (json{{"drive_id", "a"},
                             {"path_on_host", data},
                             {"is_root_device", false},
                             {"is_read_only", false}}));
}

TEST_F(ApiTest, DevicesAreLimitedToTheFreeVirtioSlots) {
  // Eight slots, one taken by virtio-rng and one by a --disk given on the command line.
  VirtConfig base;
  base.disks = {block::disk_of("/cli/disk.img")};
  ApiHarness limited(base);
  for (int i = 0; i < 5; ++i) {
    const std::string id = "d" + std::to_string(i);
    EXPECT_EQ(
        limited
            .call(Method::kPut, "/drives/" + id,
                  json{{"drive_id", id}, {"path_on_host", dir.file(id)}, {"is_root_device", false}})
            .status,
        204);
  }
  EXPECT_EQ(limited
                .call(Method::kPut, "/network-interfaces/n0",
                      json{{"iface_id", "n0"}, {"vessel_user_net", json::object()}})
                .status,
            204);
  const http::Response full = limited.call(Method::kPut, "/network-interfaces/n1",
                                           json{{"iface_id", "n1"}, {"host_dev_name", "tap1"}});
  EXPECT_EQ(full.status, 400);
  EXPECT_NE(fault(full).find("no virtio slot left"), std::string::npos) << fault(full);
  // Replacing one still works, and the command line's disk comes after the API's.
  EXPECT_EQ(
      limited
          .call(
              Method::kPut, "/drives/d0",
              json{{"drive_id", "d0"}, {"path_on_host", dir.file("d0")}, {"is_root_device", true}})
          .status,
      204);
  limited.call(Method::kPut, "/boot-source", json{{"kernel_image_path", kernel}});
  EXPECT_EQ(limited.call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}).status,
            204);
  EXPECT_EQ(limited.vm.started_with->disks.size(), 6U);
  EXPECT_EQ(limited.vm.started_with->disks.back().path, "/cli/disk.img");
}

// ---------------------------------------------------------------------- network-interfaces

TEST_F(ApiTest, TapAndUserInterfacesBecomeNetOptions) {
  expect_done(call(
      Method::kPut, "/network-interfaces/eth0",
      json{{"iface_id", "eth0"}, {"host_dev_name", "tap0"}, {"guest_mac", "06:00:AC:10:00:02"}}));
  expect_done(call(Method::kPut, "/network-interfaces/eth1",
                   json{{"iface_id", "eth1"},
                        {"vessel_user_net", {{"hostfwd", {"tcp::2222-:22", "udp::5353-:53"}}}}}));
  start();
  const std::vector<NetSpec>& started = h.vm.started_with->nets;
  ASSERT_EQ(started.size(), 2U);
  EXPECT_EQ(started[0].kind, NetSpec::Kind::kTap);
  EXPECT_EQ(started[0].ifname, "tap0");
  EXPECT_EQ(started[0].mac, (MacAddress{0x06, 0x00, 0xac, 0x10, 0x00, 0x02}));
  EXPECT_EQ(started[1].kind, NetSpec::Kind::kUser);
  ASSERT_EQ(started[1].hostfwd.size(), 2U);
  EXPECT_EQ(started[1].hostfwd[0].rule(), "tcp:127.0.0.1:2222-:22");
  EXPECT_EQ(started[1].hostfwd[1].rule(), "udp:127.0.0.1:5353-:53");
  EXPECT_FALSE(started[1].mac);
  const json nets = call(Method::kGet, "/vm/config").body->at("network-interfaces");
  EXPECT_EQ(nets[1],
            (json{{"iface_id", "eth1"},
                  {"vessel_user_net", {{"hostfwd", {"tcp::2222-:22", "udp::5353-:53"}}}}}));
}

TEST_F(ApiTest, UserNetworksCanBeRestrictedAndKeptOffTheHostsLoopback) {
  expect_done(call(
      Method::kPut, "/network-interfaces/eth0",
      json{{"iface_id", "eth0"}, {"vessel_user_net", {{"restrict", true}, {"loopback", false}}}}));
  expect_done(call(Method::kPut, "/network-interfaces/eth1",
                   json{{"iface_id", "eth1"},
                        {"vessel_user_net", {{"restrict", false}, {"loopback", true}}},
                        {"guest_mac", "06:00:AC:10:00:03"}}));
  start();
  const std::vector<NetSpec>& started = h.vm.started_with->nets;
  ASSERT_EQ(started.size(), 2U);
  EXPECT_TRUE(started[0].restricted);
  EXPECT_FALSE(started[0].host_loopback);
  EXPECT_FALSE(started[1].restricted);
  EXPECT_TRUE(started[1].host_loopback);
  EXPECT_EQ(started[1].mac, (MacAddress{0x06, 0x00, 0xac, 0x10, 0x00, 0x03}));
  EXPECT_EQ(call(Method::kGet, "/vm/config").body->at("network-interfaces")[0]["vessel_user_net"],
            (json{{"hostfwd", json::array()}, {"restrict", true}, {"loopback", false}}));
}

TEST_F(ApiTest, NetworkInterfaceValuesAreChecked) {
  const auto put = [&](json body) { return call(Method::kPut, "/network-interfaces/eth0", body); };
  expect_fault(put({{"iface_id", "eth0"}}),
               "missing required field 'host_dev_name' (a tap device; or 'vessel_user_net'");
  expect_fault(
      put({{"iface_id", "eth0"}, {"host_dev_name", "tap0"}, {"vessel_user_net", json::object()}}),
      "host_dev_name and vessel_user_net exclude each other");
  expect_fault(put({{"iface_id", "eth1"}, {"host_dev_name", "tap0"}}),
               "iface_id 'eth1' in the body does not match 'eth0'");
  expect_fault(put({{"iface_id", "eth0"}, {"host_dev_name", "tap/0"}}),
               "tap interface name 'tap/0' is not valid");
  expect_fault(put({{"iface_id", "eth0"}, {"host_dev_name", std::string(16, 't')}}),
               "is not valid (1-15 characters");
  expect_fault(put({{"iface_id", "eth0"}, {"host_dev_name", "tap0,mac=x"}}),
               "host_dev_name: tap interface name 'tap0,mac=x' is not valid");
  expect_fault(
      put({{"iface_id", "eth0"}, {"host_dev_name", "tap0"}, {"guest_mac", "01:00:00:00:00:01"}}),
      "mac '01:00:00:00:00:01': a multicast address");
  expect_fault(put({{"iface_id", "eth0"}, {"host_dev_name", "tap0"}, {"guest_mac", "06:00"}}),
               "mac '06:00': expected six hex bytes");
  expect_fault(put({{"iface_id", "eth0"}, {"host_dev_name", "tap0"}, {"guest_mac", "a,b"}}),
               "guest_mac: mac 'a,b'");
  expect_fault(put({{"iface_id", "eth0"}, {"vessel_user_net", {{"hostfwd", {"tcp::99999-:22"}}}}}),
               "hostfwd 'tcp::99999-:22': host port 99999 out of range");
  expect_fault(put({{"iface_id", "eth0"}, {"vessel_user_net", {{"hostfwd", {"tcp::1-:2,x"}}}}}),
               "vessel_user_net.hostfwd: malformed hostfwd 'tcp::1-:2,x'");
  expect_fault(put({{"iface_id", "eth0"}, {"vessel_user_net", {{"hostfwd", "tcp::1-:2"}}}}),
               "vessel_user_net.hostfwd: expected an array of strings, got string");
  expect_fault(put({{"iface_id", "eth0"}, {"vessel_user_net", {{"dns", "1.1.1.1"}}}}),
               "unknown field 'vessel_user_net.dns' (known: hostfwd, restrict, loopback)");
  expect_fault(put({{"iface_id", "eth0"}, {"vessel_user_net", {{"restrict", "maybe"}}}}),
               "vessel_user_net.restrict: expected true or false, got string");
  expect_fault(put({{"iface_id", "eth0"}, {"vessel_user_net", true}}),
               "vessel_user_net: expected an object, got boolean");
  expect_fault(put({{"iface_id", "eth0"}, {"host_dev_name", "tap0"}, {"rx_rate_limiter", 1}}),
               "unknown field 'rx_rate_limiter'");
  EXPECT_TRUE(call(Method::kGet, "/vm/config").body->at("network-interfaces").empty());
}

TEST_F(ApiTest, TapsAndMacsAreNotShared) {
  expect_done(
      call(Method::kPut, "/network-interfaces/a",
           json{{"iface_id", "a"}, {"host_dev_name", "tap0"}, {"guest_mac", "06:00:00:00:00:0a"}}));
  expect_fault(call(Method::kPut, "/network-interfaces/b",
                    json{{"iface_id", "b"}, {"host_dev_name", "tap0"}}),
               "host_dev_name: tap0 is already used by interface 'a'");
  expect_fault(call(Method::kPut, "/network-interfaces/b",
                    json{{"iface_id", "b"},
                         {"vessel_user_net", json::object()},
                         {"guest_mac", "06:00:00:00:00:0a"}}),
               "guest_mac: 06:00:00:00:00:0a is already used by interface 'a'");
  // Case does not make a MAC another one.
  expect_fault(
      call(Method::kPut, "/network-interfaces/b",
           json{{"iface_id", "b"}, {"host_dev_name", "tap1"}, {"guest_mac", "06:00:00:00:00:0A"}}),
      "already used");
  expect_done(
      call(Method::kPut, "/network-interfaces/a",
           json{{"iface_id", "a"}, {"host_dev_name", "tap0"}, {"guest_mac", "06:00:00:00:00:02"}}));
}

// ----------------------------------------------------------------------------------- actions

TEST_F(ApiTest, InstanceStartNeedsABootSourceAndWorksOnce) {
  expect_fault(call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}),
               "no boot source: PUT /boot-source first");
  EXPECT_EQ(state(), "Not started");
  EXPECT_TRUE(h.vm.calls.empty());
  start();
  expect_fault(call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}),
               "the microVM is already started");
  EXPECT_EQ(h.vm.calls, (std::vector<std::string>{"start"}));
}

TEST_F(ApiTest, StartFailureIsA400AndCanBeRetried) {
  put_boot_source();
  h.vm.fail_start = "tap0: cannot open /dev/net/tun: Permission denied";
  expect_fault(call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}),
               "tap0: cannot open /dev/net/tun: Permission denied");
  EXPECT_EQ(state(), "Not started");
  // Still pre-boot: the configuration can be fixed and the start tried again.
  expect_done(call(Method::kPatch, "/machine-config", json{{"vcpu_count", 2}}));
  h.vm.fail_start.reset();
  expect_done(call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}));
  EXPECT_EQ(state(), "Running");
}

TEST_F(ApiTest, LongCommandLineWithRootIsRefusedAtStart) {
  expect_done(
      call(Method::kPut, "/drives/rootfs",
           json{{"drive_id", "rootfs"}, {"path_on_host", rootfs}, {"is_root_device", true}}));
  expect_done(call(Method::kPut, "/boot-source",
                   json{{"kernel_image_path", kernel}, {"boot_args", std::string(1010, 'x')}}));
  expect_fault(call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}),
               "with root= added is longer than 1023 bytes");
}

TEST_F(ApiTest, OtherActions) {
  expect_done(call(Method::kPut, "/actions", json{{"action_type", "FlushMetrics"}}));
  expect_fault(call(Method::kPut, "/actions", json{{"action_type", "SendCtrlAltDel"}}),
               "SendCtrlAltDel is not supported on riscv64");
  expect_fault(call(Method::kPut, "/actions", json{{"action_type", "Reboot"}}),
               "the microVM is not started yet");
  expect_fault(call(Method::kPut, "/actions", json{{"action_type", "Shutdown"}}),
               "the microVM is not started yet");
  expect_fault(call(Method::kPut, "/actions", json{{"action_type", "Explode"}}),
               "action_type: unknown action 'Explode'");
  expect_fault(call(Method::kPut, "/actions", json{{"action", "InstanceStart"}}),
               "unknown field 'action'");
  // What a client sent is quoted back only in part.
  const http::Response huge =
      call(Method::kPut, "/actions", json{{"action_type", std::string(5000, 'x')}});
  expect_fault(huge, fmt::format("unknown action '{}...'", std::string(64, 'x')));
  EXPECT_LT(fault(huge).size(), 200U);
  expect_fault(call(Method::kPut, "/actions", json{{std::string(300, 'k'), 1}}),
               fmt::format("unknown field '{}...'", std::string(64, 'k')));
  expect_fault(call(Method::kPut, "/actions", json::object()),
               "missing required field 'action_type'");
  start();
  expect_done(call(Method::kPut, "/actions", json{{"action_type", "FlushMetrics"}}));
  expect_fault(call(Method::kPut, "/actions", json{{"action_type", "SendCtrlAltDel"}}),
               "not supported on riscv64");
  expect_done(call(Method::kPut, "/actions", json{{"action_type", "Reboot"}}));
  expect_done(call(Method::kPut, "/actions", json{{"action_type", "Shutdown"}}));
  EXPECT_EQ(h.vm.calls, (std::vector<std::string>{"start", "reboot", "shutdown"}));
}

// -------------------------------------------------------------------------------- /vm, stats

TEST_F(ApiTest, PauseAndResume) {
  expect_fault(call(Method::kPatch, "/vm", json{{"state", "Paused"}}),
               "the microVM is not started yet");
  start();
  expect_done(call(Method::kPatch, "/vm", json{{"state", "Paused"}}));
  expect_done(call(Method::kPatch, "/vm", json{{"state", "Paused"}}));  // already: nothing to do
  expect_done(call(Method::kPatch, "/vm", json{{"state", "Resumed"}}));
  expect_done(call(Method::kPatch, "/vm", json{{"state", "Resumed"}}));
  EXPECT_EQ(h.vm.calls, (std::vector<std::string>{"start", "pause", "resume"}));
  expect_fault(call(Method::kPatch, "/vm", json{{"state", "Stopped"}}),
               "state: unknown state 'Stopped' (Paused or Resumed)");
  expect_fault(call(Method::kPatch, "/vm", json{{"state", "Paused"}, {"force", true}}),
               "unknown field 'force'");
}

TEST_F(ApiTest, StatsAfterStart) {
  expect_fault(call(Method::kGet, "/vessel/stats"), "the microVM is not started yet");
  start();
  const http::Response r = call(Method::kGet, "/vessel/stats");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body->contains("instructions"));
}

TEST_F(ApiTest, PreBootResourcesAreRefusedAfterStart) {
  start();
  const std::string expected = "the microVM is already started: this is a pre-boot setting";
  expect_fault(
      call(Method::kPut, "/machine-config", json{{"vcpu_count", 2}, {"mem_size_mib", 512}}),
      expected);
  expect_fault(call(Method::kPatch, "/machine-config", json{{"vcpu_count", 2}}), expected);
  expect_fault(call(Method::kPut, "/boot-source", json{{"kernel_image_path", kernel}}), expected);
  expect_fault(
      call(Method::kPut, "/drives/rootfs",
           json{{"drive_id", "rootfs"}, {"path_on_host", rootfs}, {"is_root_device", true}}),
      expected);
  expect_fault(call(Method::kPut, "/network-interfaces/eth0",
                    json{{"iface_id", "eth0"}, {"host_dev_name", "tap0"}}),
               expected);
  // Reading still works, and nothing changed.
  EXPECT_EQ(call(Method::kGet, "/machine-config").status, 200);
  const json config = *call(Method::kGet, "/vm/config").body;
  EXPECT_TRUE(config["drives"].empty());
  EXPECT_TRUE(config["network-interfaces"].empty());
  EXPECT_EQ(h.vm.calls, (std::vector<std::string>{"start"}));
}

TEST_F(ApiTest, FullConfig) {
  expect_done(
      call(Method::kPut, "/machine-config", json{{"vcpu_count", 2}, {"mem_size_mib", 256}}));
  expect_done(call(
      Method::kPut, "/boot-source",
      json{
          {"kernel_image_path", kernel}, {"initrd_path", initrd}, {"boot_args", "console=ttyS0"}}));
  expect_done(call(Method::kPut, "/drives/rootfs",
                   json{{"drive_id", "rootfs"},
                        {"path_on_host", rootfs},
                        {"is_root_device", true},
                        {"is_read_only", true}}));
  expect_done(call(Method::kPut, "/network-interfaces/eth0",
                   json{{"iface_id", "eth0"}, {"host_dev_name", "tap0"}}));
  const http::Response r = call(Method::kGet, "/vm/config");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(*r.body,
            (json{{"machine-config",
                   {{"vcpu_count", 2},
                    {"mem_size_mib", 256},
                    {"smt", false},
                    {"track_dirty_pages", false},
                    {"huge_pages", "None"},
                    {"vessel_engine", kDefaultEngine}}},
                  {"boot-source",
                   {{"kernel_image_path", kernel},
                    {"initrd_path", initrd},
                    {"boot_args", "console=ttyS0"}}},
                  {"drives",
                   {{{"drive_id", "rootfs"},
                     {"path_on_host", rootfs},
                     {"is_root_device", true},
                     {"is_read_only", true}}}},
                  {"network-interfaces", {{{"iface_id", "eth0"}, {"host_dev_name", "tap0"}}}},
                  {"entropy", json::object()}}));
}

TEST_F(ApiTest, SnapshotCreateNeedsAPausedVmAndFilesItMayWrite) {
  const json body = {{"snapshot_path", dir.at("vmstate")}, {"mem_file_path", dir.at("memory")}};
  auto r = call(Method::kPut, "/snapshot/create", body);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(fault(r).find("not started"), std::string::npos) << fault(r);
  call(Method::kPut, "/boot-source", json{{"kernel_image_path", dir.file("Image")}});
  ASSERT_EQ(call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}).status, 204);
  r = call(Method::kPut, "/snapshot/create", body);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(fault(r).find("must be paused"), std::string::npos) << fault(r);
  ASSERT_EQ(call(Method::kPatch, "/vm", json{{"state", "Paused"}}).status, 204);
  json other = body;
  other["snapshot_type"] = "Partial";
  EXPECT_EQ(call(Method::kPut, "/snapshot/create", other).status, 400);
  json bad = body;
  bad["mem_file_path"] = "/proc/self/mem";
  EXPECT_EQ(call(Method::kPut, "/snapshot/create", bad).status, 400);
  bad["mem_file_path"] = body["snapshot_path"];
  EXPECT_EQ(call(Method::kPut, "/snapshot/create", bad).status, 400);
  EXPECT_EQ(call(Method::kPut, "/snapshot/create", body).status, 204);
  EXPECT_EQ(h.vm.calls.back(), "create_snapshot " + dir.at("vmstate") + " " + dir.at("memory"));
  json diff = body;
  diff["snapshot_type"] = "Diff";
  EXPECT_EQ(call(Method::kPut, "/snapshot/create", diff).status, 204);
  EXPECT_EQ(h.vm.calls.back(),
            "create_snapshot " + dir.at("vmstate") + " " + dir.at("memory") + " diff");
}

TEST_F(ApiTest, SnapshotLoadComesBeforeAnyConfiguration) {
  const json body = {
      {"snapshot_path", dir.file("vmstate")},
      {"mem_backend", {{"backend_type", "File"}, {"backend_path", dir.file("memory")}}},
      {"resume_vm", false}};
  json uffd = body;
  uffd["mem_backend"]["backend_type"] = "Uffd";
  EXPECT_EQ(call(Method::kPut, "/snapshot/load", uffd).status, 400);
  json missing = body;
  missing["snapshot_path"] = dir.at("none");
  EXPECT_EQ(call(Method::kPut, "/snapshot/load", missing).status, 400);
  {
    ApiHarness configured;
    ASSERT_EQ(
        configured
            .call(Method::kPut, "/machine-config", json{{"vcpu_count", 1}, {"mem_size_mib", 64}})
            .status,
        204);
    auto r = configured.call(Method::kPut, "/snapshot/load", body);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(fault(r).find("after configuring"), std::string::npos) << fault(r);
  }
  EXPECT_EQ(call(Method::kPut, "/snapshot/load", body).status, 204);
  EXPECT_EQ(h.vm.state(), VmState::kPaused);
  EXPECT_EQ(call(Method::kPut, "/snapshot/load", body).status, 400);
  EXPECT_EQ(call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}).status, 400);
}

TEST_F(ApiTest, UnknownPathsAndMethods) {
  EXPECT_EQ(call(Method::kGet, "/cpu-config").status, 404);
  EXPECT_EQ(call(Method::kPut, "/mmds/unknown", json::object()).status, 404);
  EXPECT_EQ(call(Method::kPut, "/snapshot/unknown", json::object()).status, 404);
  EXPECT_EQ(call(Method::kDelete, "/drives/rootfs").status, 405);
  EXPECT_EQ(call(Method::kPatch, "/drives/rootfs", json::object()).status, 405);
}

}  // namespace
}  // namespace vessel::api
