#include "daemon/daemon.hpp"

#include <fmt/format.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "api/http/json_fields.hpp"
#include "api/http/server.hpp"
#include "base/log.hpp"
#include "daemon/console_bridge.hpp"
#include "daemon/manager.hpp"
#include "daemon/metrics.hpp"
#include "host/console_log.hpp"
#include "vmm/jail.hpp"
#include "vmm/seccomp.hpp"
#include "vmm/vm.hpp"

namespace vessel::daemon {

namespace fs = std::filesystem;
using http::Method;
using http::Request;
using http::Response;

namespace {

constexpr const char* kErrorField = "error";
constexpr uint64_t kMaxLogBytes = 16 << 20;
constexpr uint64_t kMaxStaticFile = 16 << 20;

Response reply(const Answer& a) {
  if (!a.error.empty()) return Response::error(a.status, a.error, kErrorField);
  if (a.status == 204) return Response::no_content();
  return Response::json(a.status, a.body);
}

Response fail(int status, std::string message) {
  return Response::error(status, std::move(message), kErrorField);
}

const char* content_type(const std::string& path) {
  static constexpr std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (auto [ext, type] : kTypes) {
    if (path.ends_with(ext)) return type;
  }
  return "application/octet-stream";
}

class StaticFiles {
 public:
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}

  Response serve(const std::string& relative) const {
    if (root_.empty()) {
      return fail(404, "the web console is not installed (give vessel daemon --ui-dir DIR)");
    }
    for (const auto& part : fs::path(relative)) {
      if (part.string().starts_with("."))
        return fail(404, fmt::format("/ui/{}: no such file", relative));
    }
    char resolved[PATH_MAX];
    const std::string path = root_ + "/" + relative;
    // Symbolic links are followed, but only to files inside the directory.
    if (realpath(path.c_str(), resolved) == nullptr ||
        !std::string_view(resolved).starts_with(root_ + "/")) {
      return fail(404, fmt::format("{}: no such file", relative));
    }
    struct stat st {};
    if (stat(resolved, &st) != 0 || !S_ISREG(st.st_mode)) {
      return fail(404, fmt::format("{}: no such file", relative));
    }
    if (static_cast<uint64_t>(st.st_size) > kMaxStaticFile) {
      return fail(500, fmt::format("{}: too large to serve", relative));
    }
    std::FILE* f = std::fopen(resolved, "rb");
    if (f == nullptr) return fail(500, fmt::format("{}: cannot read", relative));
    std::string data(static_cast<size_t>(st.st_size), '\0');
    const size_t n = std::fread(data.data(), 1, data.size(), f);
    std::fclose(f);
    data.resize(n);
    Response r = Response::raw(200, content_type(relative), std::move(data));
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  }

 private:
  std::string root_;
};

Result<bool> force_param(const Request& req) {
  auto force = http::query_param(req.query, "force");
  if (!force || *force == "false") return false;
  if (*force == "true" || force->empty()) return true;
  return make_error(fmt::format("force: '{}' is neither true nor false", http::excerpt(*force)));
}

void add_routes(http::Router& router, VmManager& vms, const StaticFiles& files) {
  using Op = Answer (VmManager::*)(const std::string&);
  // Every route with a {name} checks it first: a name is a path inside the state dir.
  auto named = [&vms](auto handler) {
    return [&vms, handler](const Request& req) -> Response {
      const std::string& name = req.param("name");
      if (auto ok = check_vm_name(name); !ok) return fail(400, ok.error().message);
      return handler(vms, name, req);
    };
  };
  router.add(Method::kGet, "/api/v1/vms", [&vms](const Request&) { return reply(vms.list()); });
  router.add(Method::kPost, "/api/v1/vms",
             [&vms](const Request& req) { return reply(vms.create(req.body)); });
  router.add(Method::kGet, "/api/v1/vms/{name}",
             named([](VmManager& m, const std::string& name, const Request&) {
               return reply(m.get(name));
             }));
  router.add(Method::kDelete, "/api/v1/vms/{name}",
             named([](VmManager& m, const std::string& name, const Request& req) {
               auto force = force_param(req);
               if (!force) return fail(400, force.error().message);
               return reply(m.remove(name, *force));
             }));
  static constexpr std::pair<const char*, Op> kActions[] = {
      {"start", &VmManager::start},   {"stop", &VmManager::stop},     {"pause", &VmManager::pause},
      {"resume", &VmManager::resume}, {"reboot", &VmManager::reboot},
  };
  for (const auto& entry : kActions) {
    const Op op = entry.second;  // a variable of its own: clang 14 cannot capture a binding
    router.add(Method::kPost, fmt::format("/api/v1/vms/{{name}}/{}", entry.first),
               named([op](VmManager& m, const std::string& name, const Request&) {
                 return reply((m.*op)(name));
               }));
  }
  router.add(Method::kPost, "/api/v1/vms/{name}/snapshot",
             named([](VmManager& m, const std::string& name, const Request& req) {
               return reply(m.snapshot(name, req.body));
             }));
  router.add(Method::kPost, "/api/v1/vms/{name}/restore",
             named([](VmManager& m, const std::string& name, const Request& req) {
               return reply(m.restore(name, req.body));
             }));
  router.add(Method::kGet, "/api/v1/snapshots", [&vms](const Request& req) {
    auto vm = http::query_param(req.query, "vm");
    return reply(vms.snapshots(vm ? std::optional<std::string>(*vm) : std::nullopt));
  });
  router.add(Method::kGet, "/api/v1/snapshots/{snap}",
             [&vms](const Request& req) { return reply(vms.snapshot_info(req.param("snap"))); });
  router.add(Method::kPost, "/api/v1/snapshots/{snap}/clone",
             [&vms](const Request& req) { return reply(vms.clone(req.param("snap"), req.body)); });
  router.add(Method::kPost, "/api/v1/vms/{name}/migrate",
             named([](VmManager& m, const std::string& name, const Request& req) {
               return reply(m.migrate(name, req.body));
             }));
  router.add(Method::kPost, "/api/v1/incoming",
             [&vms](const Request& req) { return reply(vms.incoming(req.body)); });
  router.add(Method::kGet, "/api/v1/vms/{name}/stats",
             named([](VmManager& m, const std::string& name, const Request&) {
               return reply(m.stats(name));
             }));
  router.add(Method::kGet, "/api/v1/vms/{name}/logs",
             named([](VmManager& m, const std::string& name, const Request& req) {
               uint64_t bytes = kMaxLogBytes;
               if (auto given = http::query_param(req.query, "bytes")) {
                 const auto [end, ec] =
                     std::from_chars(given->data(), given->data() + given->size(), bytes);
                 if (ec != std::errc() || end != given->data() + given->size() || bytes == 0 ||
                     bytes > kMaxLogBytes) {
                   return fail(400, fmt::format("bytes: '{}' is not a count from 1 to {}",
                                                http::excerpt(*given), kMaxLogBytes));
                 }
               }
               int status = 0;
               auto paths = m.paths(name, false, &status);
               if (!paths) return fail(status, paths.error().message);
               auto text = read_log_tail(paths->console_log(), bytes);
               if (!text) return fail(500, text.error().message);
               return Response::raw(200, "text/plain; charset=utf-8", std::move(*text));
             }));
  router.add_websocket(
      "/api/v1/vms/{name}/console",
      [&vms](const Request& req, std::shared_ptr<http::WebSocket> ws)
          -> std::variant<http::WebSocketCallbacks, Response> {
        const std::string& name = req.param("name");
        if (auto ok = check_vm_name(name); !ok) return fail(400, ok.error().message);
        int status = 0;
        auto paths = vms.paths(name, true, &status);
        if (!paths) return fail(status, paths.error().message);
        auto callbacks = bridge_console(vms.loop(), paths->console_socket(), std::move(ws));
        if (!callbacks) {
          return fail(503, fmt::format("VM '{}': console: {}", name, callbacks.error().message));
        }
        return std::move(*callbacks);
      });
  router.add(Method::kGet, "/metrics", [&vms](const Request&) {
    return Response::raw(200, "text/plain; version=0.0.4; charset=utf-8",
                         render_metrics(vms.figures()));
  });
  router.add(Method::kGet, "/", [&files](const Request&) { return files.serve("index.html"); });
  router.add(Method::kGet, "/ui/{path*}",
             [&files](const Request& req) { return files.serve(req.param("path")); });
}

std::string binary_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

}  // namespace

Result<uint16_t> parse_listen_tcp(const std::string& text) {
  const size_t colon = text.rfind(':');
  const std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
  if (host != "127.0.0.1" && host != "localhost") {
    return make_error(
        fmt::format("--listen-tcp '{}': expected 127.0.0.1:PORT (the API listens on "
                    "loopback only)",
                    text));
  }
  const std::string port = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return make_error(fmt::format("--listen-tcp '{}': '{}' is not a port (0-65535)", text, port));
  }
  return static_cast<uint16_t>(value);
}

std::string default_ui_dir() {
  const std::string dir = binary_dir();
  if (dir.empty()) return {};
  for (const std::string& candidate : {dir + "/webui", dir + "/../share/vessel/webui"}) {
    std::error_code ec;
    if (fs::is_regular_file(candidate + "/index.html", ec)) {
      return fs::canonical(candidate, ec).string();
    }
  }
  return {};
}

Result<std::string> read_log_tail(const std::string& path, uint64_t max_bytes) {
  // A VM that never ran has no log yet: its scrollback is empty.
  std::string out;
  for (const std::string& part : {path + ".1", path}) {
    std::FILE* f = std::fopen(part.c_str(), "rb");
    if (f == nullptr) {
      if (errno == ENOENT) continue;
      return make_error(fmt::format("{}: cannot open: {}", part, strerror(errno)));
    }
    // The ring's header marks the file as a console log; it is not the guest's output.
    const std::string_view header = kConsoleLogHeader;
    char head[sizeof kConsoleLogHeader] = {};
    const size_t got = std::fread(head, 1, header.size(), f);
    uint64_t from = std::string_view(head, got) == header ? header.size() : 0;
    struct stat st {};
    if (fstat(fileno(f), &st) == 0 && static_cast<uint64_t>(st.st_size) > max_bytes) {
      // Only the end of it can be wanted.
      from = std::max(from, static_cast<uint64_t>(st.st_size) - max_bytes);
    }
    std::fseek(f, static_cast<long>(from), SEEK_SET);
    char buf[64 * 1024];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
    std::fclose(f);
    if (out.size() > max_bytes) out.erase(0, out.size() - max_bytes);
  }
  return out;
}

namespace {

// STATE_DIR/jail when the VMs are to be jailed (--jail), else empty; `note` says which, for
// the log once the daemon is up (an error before then is one line).
Result<std::string> choose_jail(const DaemonOptions& options, std::string& note) {
  if (options.jail != "auto" && options.jail != "on" && options.jail != "off") {
    return make_error(fmt::format("--jail '{}': must be auto, on or off", options.jail));
  }
  if (options.jail == "off") return std::string();
  // A sanitizer build (where seccomp is off by default too): LeakSanitizer's ptrace of the
  // VM's threads at exit fails in the jail and turns every ending into status 1.
  if (options.jail == "auto" && seccomp::default_mode() == seccomp::Mode::kOff) {
    note = "VMs run without a jail: a sanitizer build";
    return std::string();
  }
  const bool root = geteuid() == 0;
  auto cgroup = jail::check_cgroup("auto");
  if (options.jail == "auto" && (!root || !cgroup)) {
    note = root ? "VMs run without a jail: " + cgroup.error().message : "";
    return std::string();
  }
  if (!root) return make_error("--jail on: needs root; run the daemon as root or with --jail off");
  if (!cgroup) return make_error(cgroup.error().message);
  const std::string dir = options.state_dir + "/jail";  // made once the state dir is there
  note = fmt::format("each VM runs in a jail under {}", dir);
  return dir;
}

}  // namespace

int run_daemon(const DaemonOptions& options) {
  auto fail_exit = [](const std::string& message) {
    fmt::print(stderr, "vessel: daemon: {}\n", message);
    return kExitBadInput;
  };
  // Signals are taken by sigwait below; every thread started from here on inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // A daemon's log is the record of what happened to its VMs: starts and stops too.
  if (log_level() < LogLevel::kInfo) set_log_level(LogLevel::kInfo);

  ManagerOptions manager_options;
  manager_options.state_dir = options.state_dir;
  manager_options.vessel_binary = options.vessel_binary;
  manager_options.allow_dirs = options.allow_dirs;
  std::string jail_note;
  auto jail_dir = choose_jail(options, jail_note);
  if (!jail_dir) return fail_exit(jail_dir.error().message);
  manager_options.jail_dir = *jail_dir;
  if (options.vessel_binary == "/proc/self/exe") {
    // The VMs' command lines name the real binary, for people reading ps; /proc/self/exe
    // still runs this very file if it was replaced since.
    std::error_code ec;
    const auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec && fs::exists(exe, ec)) manager_options.vessel_binary = exe.string();
  }
  auto manager = VmManager::open(manager_options);
  if (!manager) return fail_exit(manager.error().message);
  if (const std::string& jail = manager_options.jail_dir;
      !jail.empty() && mkdir(jail.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail_exit(fmt::format("{}: cannot create: {}", jail, std::strerror(errno)));
  }

  std::string ui_dir = options.ui_dir.value_or(default_ui_dir());
  if (!ui_dir.empty()) {
    std::error_code ec;
    const auto canonical = fs::canonical(ui_dir, ec);
    if (ec || !fs::is_directory(canonical, ec)) {
      return fail_exit(fmt::format("--ui-dir {}: not a directory", ui_dir));
    }
    ui_dir = canonical.string();
  }
  StaticFiles files(ui_dir);
  http::Router router;
  add_routes(router, **manager, files);

  http::ServerOptions server_options;
  server_options.unix_path = options.state_dir + "/daemon.sock";
  server_options.error_field = kErrorField;
  server_options.token_cookie = "vessel_token";
  server_options.public_paths = {"/", "/ui/"};
  // A stop or a pause waits for its VM; the others go on meanwhile.
  server_options.threads = 4;
  server_options.max_connections = 256;
  server_options.max_idle_connections = 256;
  // Made on the first start, TCP or not, so that it is there for whoever needs it next.
  auto token = load_or_create_token(options.state_dir);
  if (!token) return fail_exit(token.error().message);
  if (options.tcp_port) {
    server_options.tcp_port = options.tcp_port;
    server_options.token = *token;
  }
  auto server = http::Server::start(std::move(router), server_options);
  if (!server) return fail_exit(server.error().message);
  if (!jail_note.empty()) log(LogLevel::kInfo, "{}", jail_note);
  std::string where = *server_options.unix_path;
  if (options.tcp_port) {
    where += fmt::format(" and http://127.0.0.1:{}/ (token in {}/token)", (*server)->tcp_port(),
                         options.state_dir);
  }
  fmt::print("vessel daemon: serving {}{}\n", where,
             ui_dir.empty() ? " (no web console found)" : "");
  std::fflush(stdout);

  int sig = 0;
  while (sigwait(&stop_signals, &sig) != 0) {}
  log(LogLevel::kInfo, "daemon: signal {}: stopping; the VMs keep running", sig);
  (*server)->stop();
  manager->reset();
  return kExitOk;
}

}  // namespace vessel::daemon
