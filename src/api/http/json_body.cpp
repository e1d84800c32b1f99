#include "api/http/json_body.hpp"

#include <fmt/format.h>

namespace vessel::http {

Result<std::optional<nlohmann::json>> parse_json_body(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return std::optional<nlohmann::json>();
  }
  int depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        return make_error(
            fmt::format("malformed JSON body: nested deeper than {} levels", kMaxJsonDepth));
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  try {
    return std::optional<nlohmann::json>(nlohmann::json::parse(text));
  } catch (const nlohmann::json::exception& e) {
    // Not only parse_error: a number too large for a double (1e9999) is out_of_range.
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ...": the part after
    // the library's tag is the useful one.
    std::string_view what = e.what();
    if (const size_t tag = what.find("] "); tag != std::string_view::npos) {
      what.remove_prefix(tag + 2);
    }
    return make_error(fmt::format("malformed JSON body: {}", what));
  }
}

}  // namespace vessel::http
