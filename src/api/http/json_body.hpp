// Request bodies as the server hands them to handlers: JSON, parsed only after a bounded check
// of how deeply it nests (a body of 64 Ki '[' would otherwise make every recursive walk over
// the value a stack hazard).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "base/result.hpp"

namespace vessel::http {

inline constexpr int kMaxJsonDepth = 32;

// nullopt for an empty (or all-whitespace) body; an error naming the problem for anything
// that is not one JSON value nested at most kMaxJsonDepth deep.
Result<std::optional<nlohmann::json>> parse_json_body(std::string_view text);

}  // namespace vessel::http
