#include "cli/version.hpp"

#include <fmt/format.h>
#include <slirp/libslirp.h>
#include <zlib.h>

#include <CLI/Version.hpp>
#include <nlohmann/json.hpp>

#include "cli/version_generated.hpp"  // under the build tree's generated/

namespace vessel::cli {

std::string version_text() {
  std::string text = fmt::format("vessel {}", kProjectVersion);
  if (*kGitDescribe != '\0') text += fmt::format(" ({})", kGitDescribe);
  text += fmt::format(
      "\nlibraries: fmt {}.{}.{}, CLI11 {}, nlohmann_json {}.{}.{}, zlib {}, libslirp {}\n",
      FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100, CLI11_VERSION,
      NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH,
      zlibVersion(), slirp_version_string());
  return text;
}

}  // namespace vessel::cli
