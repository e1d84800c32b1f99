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

// A migration's ticket reaches the destination's vessel through its environment, beside the
// daemon's own, and not on its command line.
TEST(Proc, SpawnedProcessGetsTheAddedEnvironment) {
  http::ScratchDir dir;
  const std::string log = dir.at("env.log");
  auto pid =
      spawn_in_session("/bin/sh", {"sh", "-c", "echo ticket=$VESSEL_TEST_T path=${PATH:+set}"}, log,
                       {"VESSEL_TEST_T=0123abcd"});
  ASSERT_TRUE(pid.ok()) << pid.error().message;
  int status = 0;
  ASSERT_EQ(waitpid(*pid, &status, 0), *pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(read(log).find("ticket=0123abcd path=set\n"), std::string::npos) << read(log);
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
}

}  // namespace
}  // namespace vessel::daemon
