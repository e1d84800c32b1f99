#include "api/http/json_fields.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace vessel::http {

namespace {

const char* type_name(const nlohmann::json& v) {
  if (v.is_number_float()) return "a fractional number";
  if (v.is_number()) return "an integer";
  return v.type_name();  // "string", "boolean", "array", "object", "null"
}

Result<void> check_known(const nlohmann::json& object, std::string_view where,
                         std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string list;
    for (std::string_view k : known) list += fmt::format("{}{}", list.empty() ? "" : ", ", k);
    return make_error(fmt::format("unknown field '{}{}' (known: {})", where, excerpt(key),
                                  list.empty() ? "none" : list));
  }
  return {};
}

}  // namespace

std::string excerpt(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max)) + "...";
}

Result<JsonFields> JsonFields::read(const std::optional<nlohmann::json>& body,
                                    std::initializer_list<std::string_view> known) {
  if (!body) return make_error("a JSON object body is required");
  if (!body->is_object()) {
    return make_error(fmt::format("the body must be a JSON object, not {}", type_name(*body)));
  }
  TRY_VOID(check_known(*body, "", known));
  return JsonFields(*body, "");
}

Result<JsonFields> JsonFields::read_object(const nlohmann::json& value, std::string_view where,
                                           std::initializer_list<std::string_view> known) {
  const std::string prefix = fmt::format("{}.", where);
  if (!value.is_object()) {
    return make_error(fmt::format("{}: expected an object, got {}", where, type_name(value)));
  }
  TRY_VOID(check_known(value, prefix, known));
  return JsonFields(value, prefix);
}

Error JsonFields::missing(std::string_view name) {
  return make_error(fmt::format("missing required field '{}'", name));
}

const nlohmann::json* JsonFields::find(std::string_view name) const {
  const auto it = object_->find(name);
  if (it == object_->end() || it->is_null()) return nullptr;
  return &*it;
}

bool JsonFields::has(std::string_view name) const { return find(name) != nullptr; }

Error JsonFields::wrong_type(std::string_view name, const char* expected) const {
  return make_error(
      fmt::format("{}{}: expected {}, got {}", prefix_, name, expected, type_name(*find(name))));
}

Result<std::optional<std::string>> JsonFields::optional_string(std::string_view name) const {
  const nlohmann::json* v = find(name);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return wrong_type(name, "a string");
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::string> JsonFields::string(std::string_view name) const {
  auto v = TRY(optional_string(name));
  if (!v) return missing(prefix_ + std::string(name));
  return std::move(*v);
}

Result<std::optional<bool>> JsonFields::optional_boolean(std::string_view name) const {
  const nlohmann::json* v = find(name);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_boolean()) return wrong_type(name, "true or false");
  return std::optional<bool>(v->get<bool>());
}

Result<bool> JsonFields::boolean(std::string_view name) const {
  auto v = TRY(optional_boolean(name));
  if (!v) return missing(prefix_ + std::string(name));
  return *v;
}

Result<std::optional<int64_t>> JsonFields::optional_integer(std::string_view name, int64_t min,
                                                            int64_t max) const {
  const nlohmann::json* v = find(name);
  if (v == nullptr) return std::optional<int64_t>();
  if (!v->is_number_integer()) return wrong_type(name, "an integer");
  // Unsigned values past int64 are out of any range we ask for.
  const bool huge = v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX);
  const int64_t n = huge ? INT64_MAX : v->get<int64_t>();
  if (huge || n < min || n > max) {
    return make_error(
        fmt::format("{}{}: {} is out of range ({}-{})", prefix_, name, v->dump(), min, max));
  }
  return std::optional<int64_t>(n);
}

Result<int64_t> JsonFields::integer(std::string_view name, int64_t min, int64_t max) const {
  auto v = TRY(optional_integer(name, min, max));
  if (!v) return missing(prefix_ + std::string(name));
  return *v;
}

Result<std::optional<std::vector<std::string>>> JsonFields::optional_strings(
    std::string_view name) const {
  const nlohmann::json* v = find(name);
  if (v == nullptr) return std::optional<std::vector<std::string>>();
  if (!v->is_array()) return wrong_type(name, "an array of strings");
  std::vector<std::string> out;
  for (const auto& item : *v) {
    if (!item.is_string()) {
      return make_error(fmt::format("{}{}: expected an array of strings, found {}", prefix_, name,
                                    type_name(item)));
    }
    out.push_back(item.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<const nlohmann::json*> JsonFields::optional_object(std::string_view name) const {
  const nlohmann::json* v = find(name);
  if (v != nullptr && !v->is_object()) return wrong_type(name, "an object");
  return v;
}

}  // namespace vessel::http
