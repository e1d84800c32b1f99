// `vessel --version` and `vessel version`: what was built, and with what.
#pragma once

#include <string>

namespace vessel::cli {

// "vessel VERSION (GIT DESCRIBE)\n" and a line of the libraries' versions, as they report them
// (the run-time versions where a library can say, which is what a bug report needs).
std::string version_text();

}  // namespace vessel::cli
