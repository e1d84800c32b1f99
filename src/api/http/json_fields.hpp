// Reading a JSON request body as an object with known fields: anything else in it is refused
// naming the field, and each typed read refuses a missing, mistyped or out-of-range value with
// a one-line message naming the field ("vcpu_count: 40 is out of range (1-32)").
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace vessel::http {

// `text` for an error message, cut to `max` bytes (with "...") so that a huge value sent by a
// client does not make a huge answer.
std::string excerpt(std::string_view text, size_t max = 64);

class JsonFields {
 public:
  // `body` must be an object whose every field is in `known`. A null value counts as absent.
  static Result<JsonFields> read(const std::optional<nlohmann::json>& body,
                                 std::initializer_list<std::string_view> known);
  // The same for a nested object, named in errors by `where` ("vessel_user_net").
  static Result<JsonFields> read_object(const nlohmann::json& value, std::string_view where,
                                        std::initializer_list<std::string_view> known);

  bool has(std::string_view name) const;

  Result<std::string> string(std::string_view name) const;
  Result<std::optional<std::string>> optional_string(std::string_view name) const;
  Result<bool> boolean(std::string_view name) const;
  Result<std::optional<bool>> optional_boolean(std::string_view name) const;
  Result<int64_t> integer(std::string_view name, int64_t min, int64_t max) const;
  Result<std::optional<int64_t>> optional_integer(std::string_view name, int64_t min,
                                                  int64_t max) const;
  Result<std::optional<std::vector<std::string>>> optional_strings(std::string_view name) const;
  // The raw value of an object field (for read_object), nullptr when absent.
  Result<const nlohmann::json*> optional_object(std::string_view name) const;

  static Error missing(std::string_view name);

 private:
  JsonFields(const nlohmann::json& object, std::string prefix)
      : object_(&object), prefix_(std::move(prefix)) {}
  const nlohmann::json* find(std::string_view name) const;
  Error wrong_type(std::string_view name, const char* expected) const;

  const nlohmann::json* object_;
  std::string prefix_;  // "" or "where." for nested objects
};

}  // namespace vessel::http
