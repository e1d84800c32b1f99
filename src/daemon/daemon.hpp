// `vessel daemon`: the REST API of docs/daemon.md over a VmManager, on DIR/daemon.sock and,
// when asked, on a loopback TCP port with the token; also the web console's static files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace vessel::daemon {

struct DaemonOptions {
  std::string state_dir;              // as resolve_state_dir gives it
  std::optional<uint16_t> tcp_port;   // 0: any free port
  std::optional<std::string> ui_dir;  // nullopt: default_ui_dir()
  std::string vessel_binary = "/proc/self/exe";
  // Besides STATE_DIR/images, where the files VM definitions name may be (--allow-dir).
  std::vector<std::string> allow_dirs;
  // --jail: on (each VM under `vessel run --jail STATE_DIR/jail`), off, or auto: on when the
  // daemon runs as root on a host with the cgroup controllers the jail needs.
  std::string jail = "auto";
};

// "127.0.0.1:PORT" (or "localhost:PORT"): the server binds loopback only.
Result<uint16_t> parse_listen_tcp(const std::string& text);
// The web console next to the binary (BUILD/webui, as the build puts it), or where an install
// puts it (PREFIX/share/vessel/webui); empty when neither exists.
std::string default_ui_dir();
// The last `max_bytes` of a console log ring (PATH.1 then PATH). Errors name the file.
Result<std::string> read_log_tail(const std::string& path, uint64_t max_bytes);

// Serves until SIGTERM or SIGINT, then returns the exit status (the VMs keep running).
int run_daemon(const DaemonOptions& options);

}  // namespace vessel::daemon
