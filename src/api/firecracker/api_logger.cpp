#include "api/firecracker/api_logger.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <chrono>
#include <ctime>

#include "api/http/json_fields.hpp"

namespace vessel::api {

using http::JsonFields;

namespace {

struct LevelName {
  LogLevelFc level;
  const char* name;   // as the API takes it (any case)
  const char* label;  // as a line shows it
};
constexpr std::array<LevelName, 6> kLevels{{{LogLevelFc::kOff, "Off", "OFF"},
                                            {LogLevelFc::kError, "Error", "ERROR"},
                                            {LogLevelFc::kWarning, "Warning", "WARN"},
                                            {LogLevelFc::kInfo, "Info", "INFO"},
                                            {LogLevelFc::kDebug, "Debug", "DEBUG"},
                                            {LogLevelFc::kTrace, "Trace", "TRACE"}}};

bool same_letters(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

Result<LogLevelFc> parse_level(const std::string& text) {
  for (const LevelName& l : kLevels) {
    if (same_letters(text, l.name)) return l.level;
  }
  // Firecracker's words for an unknown level (serde's "unknown variant").
  return make_error(fmt::format(
      "level: unknown variant `{}`, expected one of `Off`, `Trace`, `Debug`, `Info`, `Warning`, "
      "`Error`",
      http::excerpt(text)));
}

}  // namespace

Result<LoggerConfig> parse_logger_config(const std::optional<nlohmann::json>& body,
                                         const HostFilePolicy& files) {
  const auto fields =
      TRY(JsonFields::read(body, {"log_path", "level", "show_level", "show_log_origin", "module"}));
  LoggerConfig config;
  if (auto path = TRY(fields.optional_string("log_path"))) {
    config.log_path = TRY(files.check("log_path", *path, HostFileUse::kOutput, true));
  }
  if (auto level = TRY(fields.optional_string("level"))) config.level = TRY(parse_level(*level));
  config.show_level = TRY(fields.optional_boolean("show_level")).value_or(false);
  config.show_log_origin = TRY(fields.optional_boolean("show_log_origin")).value_or(false);
  config.module = TRY(fields.optional_string("module"));
  return config;
}

Result<void> ApiLogger::configure(const LoggerConfig& config, std::string_view version) {
  // Firecracker's logger is set once.
  if (configured_) return make_error("log_path: the logger is already configured");
  if (config.log_path) TRY_VOID(sink_.open("log_path", *config.log_path));
  config_ = config;
  configured_ = true;
  log(LogLevelFc::kInfo, "vmm", fmt::format("Running vessel v{}", version));
  return {};
}

std::string ApiLogger::format(LogLevelFc level, std::string_view origin, std::string_view message,
                              int64_t ns) const {
  const std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::string line = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09} [{}:api",
                                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                 tm.tm_min, tm.tm_sec, ns % 1'000'000'000, instance_id_);
  if (config_.show_level) line += fmt::format(":{}", kLevels[static_cast<size_t>(level)].label);
  if (config_.show_log_origin) line += fmt::format(":{}", origin);
  line += fmt::format("] {}", message);
  return line;
}

void ApiLogger::log(LogLevelFc level, std::string_view origin, std::string_view message) {
  if (!configured_ || level == LogLevelFc::kOff || level > config_.level) return;
  if (config_.module && !origin.starts_with(*config_.module)) return;
  const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const std::string line = format(level, origin, message, ns);
  if (sink_.is_open()) {
    sink_.write_line(line);
  } else {
    const std::string text = line + "\n";
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
  }
}

}  // namespace vessel::api
