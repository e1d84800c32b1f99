// The daemon's parts that need no VM: definitions, the state dir's files and lock, /proc
// parsing, metrics text, the console log's tail. The API against real `vessel run` processes
// is tests/daemon/daemon_api_test.py.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "api/http/router.hpp"
#include "api/http/scratch_dir.hpp"
#include "daemon/daemon.hpp"
#include "daemon/metrics.hpp"
#include "daemon/process.hpp"
#include "daemon/snapshot_store.hpp"
#include "daemon/state_dir.hpp"
#include "daemon/vm_definition.hpp"
#include "host/console_log.hpp"

namespace vessel::daemon {
namespace {

using nlohmann::json;

std::string read(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(VmName, AcceptsOnlyTheContractsCharacters) {
  EXPECT_TRUE(valid_vm_name("web-1_A"));
  EXPECT_TRUE(valid_vm_name(std::string(32, 'a')));
  EXPECT_FALSE(valid_vm_name(""));
  EXPECT_FALSE(valid_vm_name(std::string(33, 'a')));
  for (const char* bad : {"a.b", "..", "a/b", "a b", "é", "a\n"}) {
    EXPECT_FALSE(valid_vm_name(bad)) << bad;
  }
  auto r = check_vm_name("../etc");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("VM name '../etc'"), std::string::npos);
}

TEST(VmDefinition, DefaultsAndRoundTrip) {
  auto d = parse_vm_definition(json{{"name", "a"}, {"kernel", "/k"}});
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->cpus, 1);
  EXPECT_EQ(d->memory_mib, 128);
  EXPECT_EQ(d->firmware, "builtin");
  EXPECT_EQ(d->engine, rv::default_engine()) << "jit on an x86-64 host, interp elsewhere";
  EXPECT_EQ(d->to_json()["engine"], rv::engine_name(rv::default_engine()));
  EXPECT_TRUE(d->disks.empty());
  d->disks.push_back({"/disk.img", true});
  d->engine = rv::Engine::kInterp;
  d->nets = {"user", "user,restrict=on,loopback=on", "tap=tap0"};
  d->append = "console=ttyS0";
  auto again = parse_vm_definition(d->to_json());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->to_json(), d->to_json());
  EXPECT_EQ(again->engine, rv::Engine::kInterp);
  auto jit = parse_vm_definition(json{{"name", "a"}, {"kernel", "/k"}, {"engine", "jit"}});
  if (rv::jit_supported()) {
    ASSERT_TRUE(jit.ok()) << jit.error().message;
    EXPECT_EQ(jit->engine, rv::Engine::kJit);
  } else {
    ASSERT_FALSE(jit.ok());
    EXPECT_NE(jit.error().message.find("engine: jit: the translator needs an x86-64 host"),
              std::string::npos)
        << jit.error().message;
  }
}

TEST(VmDefinition, RefusesWhatIsOutOfBoundsNamingTheField) {
  const json base{{"name", "a"}, {"kernel", "/k"}};
  struct Case {
    json patch;
    const char* expect;
  };
  const Case cases[] = {
      {{{"cpus", 0}}, "cpus: 0 is out of range (1-32)"},
      {{{"cpus", 33}}, "cpus: 33 is out of range (1-32)"},
      {{{"memory_mib", 15}}, "memory_mib: 15 is out of range (16-65536)"},
      {{{"memory_mib", 65537}}, "memory_mib"},
      {{{"memory_mib", "128"}}, "memory_mib: expected an integer"},
      {{{"colour", "red"}}, "unknown field 'colour'"},
      {{{"name", "a.b"}}, "VM name 'a.b'"},
      {{{"kernel", ""}}, "kernel: empty path"},
      {{{"nets", {"bridge"}}}, "nets[0]: 'bridge' is neither"},
      {{{"nets", {"user,restrict=maybe"}}}, "nets[0]: restrict 'maybe': expected on or off"},
      {{{"nets", {"user", "user,loopback=on,loopback=off"}}}, "nets[1]: loopback given twice"},
      {{{"nets", {"user,mac=52:54:00:12:34:56"}}},
       "nets[0]: 'mac=52:54:00:12:34:56': a user network takes hostfwd=, restrict= and "
       "loopback= only"},
      {{{"nets", {"user,hostfwd=tcp:0.0.0.0:2222-:22"}}},
       "nets[0]: hostfwd tcp:0.0.0.0:2222: the daemon's VMs forward ports of 127.0.0.1 only"},
      {{{"nets", {"user,hostfwd=tcp::0-:22"}}}, "nets[0]: hostfwd 'tcp::0-:22'"},
      {{{"nets", {"user,"}}}, "nets[0]: '': a user network takes"},
      {{{"nets", {"tap=this-name-is-too-long"}}}, "nets[0]"},
      {{{"nets",
         json::array({"user", "user", "user", "user", "user", "user", "user", "user", "user"})}},
       "nets: 9 interfaces, at most 8"},
      {{{"disks", {{{"path", "/a,b"}}}}}, "disks[0].path: /a,b: a disk path cannot contain ','"},
      {{{"disks", {{{"path", "/a"}, {"cache", true}}}}}, "unknown field 'disks[0].cache'"},
      {{{"disks", {{{"readonly", true}}}}}, "missing required field 'disks[0].path'"},
      {{{"disks", "x"}}, "disks: expected an array"},
      {{{"append", std::string(1024, 'x')}}, "append: 1024 bytes"},
      {{{"append", "a\nb"}}, "append: contains a control character"},
      {{{"engine", "bogus"}}, "engine: 'bogus' is not an engine (jit or interp)"},
      {{{"engine", ""}}, "engine: '' is not an engine"},
      {{{"engine", 1}}, "engine: expected a string"},
  };
  for (const Case& c : cases) {
    json j = base;
    j.update(c.patch);
    auto d = parse_vm_definition(j);
    ASSERT_FALSE(d.ok()) << j.dump();
    EXPECT_NE(d.error().message.find(c.expect), std::string::npos)
        << j.dump() << " -> " << d.error().message;
  }
  json nine_disks = base;
  nine_disks["disks"] = json::array();
  for (int i = 0; i < 9; ++i) nine_disks["disks"].push_back({{"path", "/d"}});
  auto d = parse_vm_definition(nine_disks);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message, "disks: 9 disks, at most 8");
  EXPECT_FALSE(parse_vm_definition(std::nullopt).ok());
  EXPECT_FALSE(parse_vm_definition(json::array()).ok());
}

TEST(VmDefinition, FilesMustBeRegularFiles) {
  http::ScratchDir dir;
  const std::string kernel = dir.file("Image");
  auto files = api::HostFilePolicy::confined_to({dir.path()}, "--allow-dir");
  ASSERT_TRUE(files.ok());
  VmDefinition d;
  d.name = "a";
  d.kernel = kernel;
  EXPECT_TRUE(resolve_vm_files(d, *files).ok());
  d.initrd = dir.path();
  auto r = resolve_vm_files(d, *files);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, fmt::format("initrd: {}: not a regular file", dir.path()));
  d.initrd.reset();
  d.disks.push_back({dir.at("missing.img"), false});
  r = resolve_vm_files(d, *files);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("disks[0].path"), std::string::npos);
  EXPECT_NE(r.error().message.find("No such file"), std::string::npos);
}

// The vCPU counters survive a guest reboot (new threads, whose /proc figures start at 0): the
// VM's own figure for the ended threads is added, and a total never goes back, even while the
// daemon's copy of the VM's statistics predates the reboot.
TEST(VcpuCounters, AddTheThreadsAGuestRebootEnded) {
  VcpuCounters c;
  using Seconds = std::vector<std::pair<unsigned, double>>;
  EXPECT_EQ(c.total({{0, 1.5}, {1, 2.0}}, json()), (Seconds{{0, 1.5}, {1, 2.0}}));
  // Rebooted: the new threads have used little, and the statistics are not yet sampled again.
  EXPECT_EQ(c.total({{0, 0.25}, {1, 0.5}}, json{{"instructions", 1}}),
            (Seconds{{0, 1.5}, {1, 2.0}}));
  const json sampled{{"vcpu_seconds_before_reboots", {1.75, 2.25}}};
  EXPECT_EQ(c.total({{0, 0.5}, {1, 0.5}}, sampled), (Seconds{{0, 2.25}, {1, 2.75}}));
  c.reset();  // a new process
  EXPECT_EQ(c.total({{0, 0.25}}, json()), (Seconds{{0, 0.25}}));
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
  VmDefinition d;
  d.name = "a";
  d.kernel = dir.file("Image");
  d.disks.push_back({qcow2, true});
  auto r = resolve_vm_files(d, *files);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().message.starts_with(fmt::format("disks[0].path: {}: a qcow2 image", qcow2)))
      << r.error().message;
  EXPECT_NE(r.error().message.find("\"format\": \"raw\""), std::string::npos);

  json body{{"name", "a"}, {"kernel", d.kernel}, {"disks", {{{"path", qcow2}, {"format", "raw"}}}}};
  auto stated = parse_vm_definition(body);
  ASSERT_TRUE(stated.ok()) << stated.error().message;
  EXPECT_TRUE(stated->disks[0].format_raw);
  EXPECT_EQ(stated->to_json()["disks"][0]["format"], "raw");
  r = resolve_vm_files(*stated, *files);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(vm_run_arguments(*r, VmPaths{"/s"}).back(), qcow2 + ",format=raw");

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
  std::filesystem::create_directories(dir.at("images"));
  auto files = api::HostFilePolicy::confined_to({dir.at("images")}, "--allow-dir");
  ASSERT_TRUE(files.ok());
  VmDefinition d;
  d.name = "a";
  d.kernel = dir.file("images/Image");
  std::filesystem::create_symlink(dir.file("images/disk.img"), dir.at("images/link.img"));
  d.disks.push_back({dir.at("images/link.img"), false});
  auto r = resolve_vm_files(d, *files);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->disks[0].path, dir.at("images/disk.img"));
  EXPECT_EQ(vm_run_arguments(*r, VmPaths{"/s"}).back(), dir.at("images/disk.img"));

  for (const auto& [field, path] : std::vector<std::pair<std::string, std::string>>{
           {"kernel", dir.file("Image")},
           {"initrd", "/etc/passwd"},
           {"firmware", "/etc/hostname"},
           {"disks[1].path", "/etc/shadow"},
           {"disks[1].path", dir.at("images/../Image")}}) {
    VmDefinition bad = d;
    if (field == "kernel") bad.kernel = path;
    if (field == "initrd") bad.initrd = path;
    if (field == "firmware") bad.firmware = path;
    if (field.starts_with("disks")) bad.disks.push_back({path, true});
    if (access(path.c_str(), F_OK) != 0) continue;  // a host without that file
    r = resolve_vm_files(bad, *files);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_TRUE(r.error().message.starts_with(field + ": " + path)) << r.error().message;
    EXPECT_NE(r.error().message.find("outside the directories a client may use"), std::string::npos)
        << r.error().message;
  }
}

TEST(VmDefinition, RunArgumentsCarryTheDefinitionAndThePaths) {
  VmDefinition d;
  d.name = "web";
  d.kernel = "/k";
  d.initrd = "/i";
  d.append = "console=ttyS0 quiet";
  d.cpus = 2;
  d.memory_mib = 256;
  d.engine = rv::Engine::kInterp;
  d.disks = {{"/a.img", false}, {"/b.img", true}};
  d.nets = {"user", "user,restrict=on", "user,loopback=on", "tap=tap0"};
  const VmPaths paths{"/s/vms/web"};
  const std::vector<std::string> want = {"run",
                                         "--api-sock",
                                         "/s/vms/web/api.sock",
                                         "--console-socket",
                                         "/s/vms/web/console.sock",
                                         "--console-log",
                                         "/s/vms/web/console.log",
                                         "--exit-status-file",
                                         "/s/vms/web/exit_status",
                                         "--log-file",
                                         "/s/vms/web/vmm.log",
                                         "--api-allow-dir",
                                         "/s/vms/web/staging",
                                         "--engine",
                                         "interp",
                                         "--firmware",
                                         "builtin",
                                         "--kernel",
                                         "/k",
                                         "--cpus",
                                         "2",
                                         "--memory",
                                         "256M",
                                         "--initrd",
                                         "/i",
                                         "--append",
                                         "console=ttyS0 quiet",
                                         "--disk",
                                         "/a.img",
                                         "--disk",
                                         "/b.img,readonly",
                                         "--net",
                                         "user,loopback=off",  // the daemon's default
                                         "--net",
                                         "user,restrict=on,loopback=off",
                                         "--net",
                                         "user,loopback=on",
                                         "--net",
                                         "tap=tap0"};
  EXPECT_EQ(vm_run_arguments(d, paths), want);
  // A restore: the host side only, the machine is the snapshot's.
  const std::vector<std::string> restore(want.begin(), want.begin() + 15);
  auto with_restore = restore;
  with_restore.insert(with_restore.end(), {"--restore", "/s/vms/web/restore"});
  EXPECT_EQ(vm_run_arguments(d, paths, "/s/vms/web/restore"), with_restore);
}

TEST(StateDir, AtomicWriteReplacesWholeAndLeavesNoTemporary) {
  http::ScratchDir dir;
  const std::string path = dir.at("config.json");
  ASSERT_TRUE(write_file_atomically(path, "one\n").ok());
  ASSERT_TRUE(write_file_atomically(path, "two\n", 0600).ok());
  EXPECT_EQ(read(path), "two\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  // A directory that cannot be written: the error names the file, the old content stays.
  const std::string missing = dir.at("no/such/dir/config.json");
  auto r = write_file_atomically(missing, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(missing), std::string::npos) << r.error().message;
}

TEST(StateDir, AtomicWriteOnAFullDiskFailsNamingTheFile) {
  // /dev/full takes no byte: the write fails as on a full disk. The target is a symlink to
  // it, so that the temporary file (PATH.tmp) is the one written: it must be a real file, so
  // make PATH.tmp itself the link.
  http::ScratchDir dir;
  const std::string path = dir.at("runtime.json");
  ASSERT_TRUE(write_file_atomically(path, "old\n").ok());
  ASSERT_EQ(symlink("/dev/full", (path + ".tmp").c_str()), 0);
  auto r = write_file_atomically(path, std::string(4096, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
  EXPECT_EQ(read(path), "old\n");
}

TEST(StateDir, SecondLockIsRefusedNamingTheHolder) {
  http::ScratchDir dir;
  auto first = StateLock::acquire(dir.path());
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = StateLock::acquire(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message,
            fmt::format("{}: another vessel daemon (pid {}) is using this state dir", dir.path(),
                        getpid()));
}

TEST(StateDir, TokenIsCreatedPrivateAndKept) {
  http::ScratchDir dir;
  auto token = load_or_create_token(dir.path());
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->size(), 32u);
  struct stat st {};
  ASSERT_EQ(stat(dir.at("token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = load_or_create_token(dir.path());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *token);
  chmod(dir.at("token").c_str(), 0644);
  EXPECT_FALSE(load_or_create_token(dir.path()).ok());
}

TEST(StateDir, ResolvesTheOptionThenTheEnvironment) {
  EXPECT_EQ(*resolve_state_dir("/a/b/../c/"), "/a/c");
  setenv("VESSEL_STATE_DIR", "/from/env", 1);
  EXPECT_EQ(*resolve_state_dir(""), "/from/env");
  unsetenv("VESSEL_STATE_DIR");
  setenv("XDG_STATE_HOME", "/xdg", 1);
  EXPECT_EQ(*resolve_state_dir(""), "/xdg/vessel");
  unsetenv("XDG_STATE_HOME");
  setenv("HOME", "/home/x", 1);
  EXPECT_EQ(*resolve_state_dir(""), "/home/x/.local/state/vessel");
}

TEST(Proc, ParsesStatWithAwkwardNames) {
  // Field 14 utime, 15 stime, 22 starttime, 24 rss; the name holds ") (" and spaces.
  const std::string text =
      "4242 (vcpu0 (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 "
      "123456 1000000 789 18446744073709551615\n";
  auto s = parse_proc_stat(text);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->comm, "vcpu0 (x) y");
  EXPECT_EQ(s->state, 'S');
  EXPECT_EQ(s->utime_ticks, 250u);
  EXPECT_EQ(s->stime_ticks, 50u);
  EXPECT_EQ(s->start_ticks, 123456u);
  EXPECT_EQ(s->rss_pages, 789u);
  EXPECT_FALSE(parse_proc_stat("4242 (x) S 1 2").has_value());
  EXPECT_FALSE(parse_proc_stat("garbage").has_value());
}

TEST(Proc, ReadsItsOwnProcess) {
  auto s = read_proc_stat(getpid());
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->state, 'R');
  EXPECT_GT(s->rss_pages, 0u);
  const auto argv = read_cmdline(getpid());
  ASSERT_FALSE(argv.empty());
  EXPECT_NE(argv[0].find("daemon_test"), std::string::npos);
}

TEST(Proc, SpawnedProcessHasItsOwnSessionAndLog) {
  http::ScratchDir dir;
  const std::string log = dir.at("out.log");
  auto pid = spawn_in_session(
      "/bin/sh",
      {"sh", "-c", "echo out; echo err >&2; read a b c d e sid rest </proc/$$/stat; echo sid=$sid"},
      log);
  ASSERT_TRUE(pid.ok()) << pid.error().message;
  auto fd = open_pidfd(*pid);
  ASSERT_TRUE(fd.ok());
  int status = 0;
  ASSERT_EQ(waitpid(*pid, &status, 0), *pid);
  close(*fd);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::string text = read(log);
  EXPECT_NE(text.find("out\n"), std::string::npos);
  EXPECT_NE(text.find("err\n"), std::string::npos);
  // The session id is the child's own pid: setsid happened.
  EXPECT_NE(text.find("sid=" + std::to_string(*pid) + "\n"), std::string::npos) << text;
  auto bad = spawn_in_session("/no/such/program", {"x"}, log);
  EXPECT_FALSE(bad.ok());
}

TEST(Metrics, TextFormatWithHelpTypeAndOneStateSet) {
  VmFigures running;
  running.name = "web";
  running.state = VmState::kRunning;
  running.cpus = 2;
  running.memory_mib = 128;
  running.proc = ProcStat{"vessel", 'S', 100, 50, 1, 10};
  running.vcpus = {{0, 1.5}, {1, 0.25}};
  running.vm_stats =
      json{{"instructions", 123456789}, {"guest_seconds", 12.5}, {"disk_read_bytes", 4096},
           {"disk_written_bytes", 0},   {"net_rx_bytes", 60},    {"net_tx_bytes", 42}};
  VmFigures stopped;
  stopped.name = "db";
  stopped.state = VmState::kStopped;
  stopped.cpus = 1;
  stopped.memory_mib = 64;
  const std::string text = render_metrics({running, stopped});
  for (const std::string& line : std::vector<std::string>{
           "# TYPE vessel_vm_state gauge",
           "vessel_vm_state{name=\"web\",state=\"running\"} 1",
           "vessel_vm_state{name=\"web\",state=\"stopped\"} 0",
           "vessel_vm_state{name=\"db\",state=\"stopped\"} 1",
           "vessel_vm_vcpus{name=\"web\"} 2",
           "vessel_vm_memory_bytes{name=\"db\"} 67108864",
           "# TYPE vessel_vm_host_cpu_seconds_total counter",
           "vessel_vm_rss_bytes{name=\"web\"} " + std::to_string(10 * page_size()),
           "vessel_vm_vcpu_seconds_total{name=\"web\",vcpu=\"1\"} 0.25",
           "vessel_vm_instructions_total{name=\"web\"} 123456789",
           "vessel_vm_guest_seconds{name=\"web\"} 12.5",
           "vessel_vm_disk_read_bytes_total{name=\"web\"} 4096",
           "vessel_vm_net_tx_bytes_total{name=\"web\"} 42",
       }) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n" << text;
  }
  // A stopped VM has no process figures.
  EXPECT_EQ(text.find("vessel_vm_rss_bytes{name=\"db\"}"), std::string::npos);
  // Every sample belongs to a family announced by HELP and TYPE.
  std::istringstream lines(text);
  std::string family;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# TYPE ")) family = line.substr(7, line.find(' ', 7) - 7);
    if (!line.starts_with("#")) { EXPECT_TRUE(line.starts_with(family + "{")) << line; }
  }
}

TEST(Logs, TailReadsTheRingInOrder) {
  http::ScratchDir dir;
  const std::string path = dir.at("console.log");
  auto empty = read_log_tail(path, 100);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
  std::ofstream(path + ".1") << "older-";
  std::ofstream(path) << "newer";
  EXPECT_EQ(*read_log_tail(path, 100), "older-newer");
  EXPECT_EQ(*read_log_tail(path, 8), "er-newer");
  EXPECT_EQ(*read_log_tail(path, 3), "wer");
  // The ring's header, which marks its files as a console log, is not output.
  std::ofstream(path + ".1") << kConsoleLogHeader << "older-";
  std::ofstream(path) << kConsoleLogHeader << "newer";
  EXPECT_EQ(*read_log_tail(path, 100), "older-newer");
  EXPECT_EQ(*read_log_tail(path, 8), "er-newer");
}

TEST(Logs, AConsoleLogFromBeforeTheHeaderIsAdoptedWithItsBytesAndTheExitStatusRemoved) {
  http::ScratchDir dir;
  const VmPaths paths{dir.path()};
  const auto read = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::ofstream(paths.console_log() + ".1") << "older-";
  std::ofstream(paths.console_log()) << "newer";
  std::ofstream(paths.exit_status()) << "0";
  ASSERT_TRUE(prepare_vm_state(paths).ok());
  EXPECT_EQ(read(paths.console_log() + ".1"), std::string(kConsoleLogHeader) + "older-");
  EXPECT_EQ(read(paths.console_log()), std::string(kConsoleLogHeader) + "newer");
  EXPECT_FALSE(std::filesystem::exists(paths.exit_status()));
  // Once adopted (or written by this Vessel), a file is left as it is; so is a missing one.
  ASSERT_TRUE(prepare_vm_state(paths).ok());
  EXPECT_EQ(read(paths.console_log()), std::string(kConsoleLogHeader) + "newer");
  EXPECT_EQ(*read_log_tail(paths.console_log(), 100), "older-newer");
  EXPECT_TRUE(ConsoleLog::check(paths.console_log(), ConsoleLog::kDefaultSize).ok());
  http::ScratchDir empty;
  EXPECT_TRUE(prepare_vm_state(VmPaths{empty.path()}).ok());
  EXPECT_FALSE(std::filesystem::exists(VmPaths{empty.path()}.console_log()));
}

TEST(ListenTcp, LoopbackOnly) {
  EXPECT_EQ(*parse_listen_tcp("127.0.0.1:8080"), 8080);
  EXPECT_EQ(*parse_listen_tcp("localhost:0"), 0);
  auto r = parse_listen_tcp("0.0.0.0:80");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("loopback only"), std::string::npos);
  EXPECT_FALSE(parse_listen_tcp("127.0.0.1:65536").ok());
  EXPECT_FALSE(parse_listen_tcp("127.0.0.1:").ok());
  EXPECT_FALSE(parse_listen_tcp("8080").ok());
}

TEST(Router, RestParameterAndQuery) {
  http::Router router;
  router.add(http::Method::kGet, "/ui/{path*}",
             [](const http::Request&) { return http::Response::no_content(); });
  auto m = router.match(http::Method::kGet, "/ui/vendor/xterm.mjs");
  ASSERT_EQ(m.outcome, http::Router::Outcome::kFound);
  EXPECT_EQ(m.params["path"], "vendor/xterm.mjs");
  EXPECT_EQ(router.match(http::Method::kGet, "/ui").outcome, http::Router::Outcome::kNotFound);
  // An encoded slash does not make a segment.
  EXPECT_EQ(router.match(http::Method::kGet, "/ui/a%2F..").outcome,
            http::Router::Outcome::kNotFound);
  EXPECT_THROW(router.add(http::Method::kGet, "/x/{a*}/y", {}), std::invalid_argument);
  EXPECT_EQ(http::query_param("a=1&force=true", "force"), "true");
  EXPECT_EQ(http::query_param("token=a%2Bb+c", "token"), "a+b c");
  EXPECT_EQ(http::query_param("force", "force"), "");
  EXPECT_EQ(http::query_param("forced=1", "force"), std::nullopt);
  EXPECT_EQ(http::query_param("x=%zz", "x"), std::nullopt);
}

TEST(Snapshots, NamesAndHostForwards) {
  EXPECT_TRUE(check_snapshot_name("web-1_2").ok());
  EXPECT_TRUE(check_snapshot_name(std::string(64, 'a')).ok());
  for (const char* bad : {"", "a.b", "a/b", ".tmp-x", "a b"}) {
    auto r = check_snapshot_name(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("snapshot name"), std::string::npos);
  }
  EXPECT_FALSE(check_snapshot_name(std::string(65, 'a')).ok());
  EXPECT_TRUE(default_snapshot_name("web").starts_with("web-"));
  EXPECT_TRUE(check_snapshot_name(default_snapshot_name(std::string(32, 'v'))).ok());

  // The clone's rules replace every user network's; the first user network gets them.
  auto nets = replace_hostfwd(
      {"tap=t0", "user,hostfwd=tcp::80-:80,restrict=on", "user,hostfwd=udp::53-:53"},
      {"tcp::8081-:80", "tcp::2222-:22"});
  ASSERT_TRUE(nets.ok());
  EXPECT_EQ(*nets,
            (std::vector<std::string>{
                "tap=t0", "user,restrict=on,hostfwd=tcp::8081-:80,hostfwd=tcp::2222-:22", "user"}));
  nets = replace_hostfwd({"user,hostfwd=tcp::80-:80"}, {});
  ASSERT_TRUE(nets.ok());
  EXPECT_EQ(*nets, std::vector<std::string>{"user"});
  EXPECT_FALSE(replace_hostfwd({"tap=t0"}, {"tcp::1-:1"}).ok());
  EXPECT_TRUE(replace_hostfwd({}, {}).ok());
}

TEST(Snapshots, OnlyTheDaemonGivesADiskAnOverlay) {
  http::ScratchDir dir;
  auto files = api::HostFilePolicy::confined_to({dir.path()}, "--allow-dir");
  ASSERT_TRUE(files.ok());
  VmDefinition d;
  d.name = "c";
  d.kernel = dir.at("k");
  { std::ofstream(d.kernel) << "k"; }
  d.disks = {{"/state/snapshots/s/disk0.img", false, false, "/state/vms/c/disk0.overlay"}};
  auto r = resolve_vm_files(d, *files, "/state");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(vm_run_arguments(*r, VmPaths{"/state/vms/c"}).back(),
            "/state/snapshots/s/disk0.img,overlay=/state/vms/c/disk0.overlay");
  // A client's definition (no state dir), or files outside it: refused.
  r = resolve_vm_files(d, *files);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("disks[0].overlay: only the daemon's"), std::string::npos);
  d.disks[0].overlay = "/state/vms/../../etc/o";
  EXPECT_FALSE(resolve_vm_files(d, *files, "/state").ok());
  d.disks[0].overlay = "/elsewhere/o";
  EXPECT_FALSE(resolve_vm_files(d, *files, "/state").ok());
  // The field round-trips through config.json.
  d.disks[0].overlay = "/state/vms/c/disk0.overlay";
  auto parsed = parse_vm_definition(d.to_json());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->disks[0].overlay, d.disks[0].overlay);
}

}  // namespace
}  // namespace vessel::daemon
