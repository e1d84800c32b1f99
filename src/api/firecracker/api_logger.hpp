// Firecracker's logger (PUT /logger): human-readable lines about what the API and the VM do,
// to a file or named pipe the client created, or to stderr when it names none. Each line is
//   <UTC time, ns> [<instance id>:<thread>[:<LEVEL>][:<origin>]] <message>
// with the level when show_level, and the origin (the module that logged) when
// show_log_origin, as Firecracker writes them; `module` keeps only lines whose origin starts
// with it. The levels are Firecracker's: Off, Error, Warning, Info, Debug, Trace (any case).
//
// What Vessel logs here: the logger's start, every API request (Info) and every refusal with
// its fault message (Error), the VM's start and end (Info), each metrics line written (Debug).
// The VMM's own warnings still go to its stderr.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "api/firecracker/host_files.hpp"
#include "api/firecracker/line_sink.hpp"
#include "base/result.hpp"

namespace vessel::api {

enum class LogLevelFc { kOff, kError, kWarning, kInfo, kDebug, kTrace };

struct LoggerConfig {
  std::optional<std::string> log_path;
  LogLevelFc level = LogLevelFc::kInfo;  // Firecracker's default
  bool show_level = false;
  bool show_log_origin = false;
  std::optional<std::string> module;
};

// PUT /logger's body, its files checked by `files`; an error names the field.
Result<LoggerConfig> parse_logger_config(const std::optional<nlohmann::json>& body,
                                         const HostFilePolicy& files);

class ApiLogger {
 public:
  explicit ApiLogger(std::string instance_id) : instance_id_(std::move(instance_id)) {}

  // Once per process, as Firecracker allows. Writes the first line ("Running vessel v...").
  Result<void> configure(const LoggerConfig& config, std::string_view version);
  bool configured() const { return configured_; }
  // A line from `origin` (a module path such as "api_server::request"), when configured and
  // the level and module let it through.
  void log(LogLevelFc level, std::string_view origin, std::string_view message);
  uint64_t missed() const { return sink_.missed(); }

  // The line log() would write at UTC time `ns`.
  std::string format(LogLevelFc level, std::string_view origin, std::string_view message,
                     int64_t ns) const;

 private:
  std::string instance_id_;
  LoggerConfig config_;
  bool configured_ = false;
  LineSink sink_;
};

}  // namespace vessel::api
