#include "base/log.hpp"

namespace vessel {
namespace {
LogLevel g_level = LogLevel::kWarn;
}
LogLevel log_level() { return g_level; }
void set_log_level(LogLevel level) { g_level = level; }
}  // namespace vessel
