#include "cli/version.hpp"

#include <fmt/format.h>
#include <zlib.h>
#ifdef VESSEL_HAVE_SLIRP
#include <slirp/libslirp.h>
#endif

#include <CLI/Version.hpp>
#include <nlohmann/json.hpp>

#include "cli/version_generated.hpp"  // under the build tree's generated/

namespace vessel::cli {

std::string version_text() {
  std::string text = fmt::format("vessel {}", kProjectVersion);
  if (*kGitDescribe != '\0') text += fmt::format(" ({})", kGitDescribe);
#ifdef VESSEL_HAVE_SLIRP
  const char* slirp = slirp_version_string();
#else
  const char* slirp = "none (VESSEL_SLIRP=OFF)";
#endif
  text += fmt::format(
      "\nlibraries: fmt {}.{}.{}, CLI11 {}, nlohmann_json {}.{}.{}, zlib {}, libslirp {}\n",
      FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100, CLI11_VERSION,
      NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH,
      zlibVersion(), slirp);
  return text;
}

}  // namespace vessel::cli
