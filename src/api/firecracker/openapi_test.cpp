// docs/api/vessel-vm.openapi.json and the server agree: every route is documented with the same
// methods and every documented operation is served; each request schema's example is accepted,
// and dropping one of its fields is refused exactly when the schema calls that field required
// (naming it); unknown fields are refused; the documented phase (x-vessel-phase) is enforced;
// GET answers carry their schema's required fields.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

#include "api/firecracker/api_test_support.hpp"

namespace vessel::api {
namespace {

using http::Method;
using nlohmann::json;

const json& doc() {
  static const json d = [] {
    std::ifstream f(VESSEL_OPENAPI_DOC);
    if (!f) throw std::runtime_error("cannot open " VESSEL_OPENAPI_DOC);
    return json::parse(f);
  }();
  return d;
}

constexpr std::pair<const char*, Method> kMethods[] = {{"get", Method::kGet},
                                                       {"put", Method::kPut},
                                                       {"patch", Method::kPatch},
                                                       {"post", Method::kPost},
                                                       {"delete", Method::kDelete}};

const char* doc_method(Method m) {
  for (const auto& [name, method] : kMethods) {
    if (method == m) return name;
  }
  return "?";
}

const json& resolve(const json& schema) {
  if (!schema.contains("$ref")) return schema;
  const std::string ref = schema["$ref"];
  const std::string prefix = "#/components/schemas/";
  return doc()["components"]["schemas"].at(ref.substr(prefix.size()));
}

struct Operation {
  std::string path;
  Method method;
  json spec;
};

std::vector<Operation> operations() {
  std::vector<Operation> ops;
  for (const auto& [path, item] : doc()["paths"].items()) {
    for (const auto& [name, method] : kMethods) {
      if (item.contains(name)) ops.push_back({path, method, item[name]});
    }
  }
  return ops;
}

// The request schemas an operation accepts: one, or each alternative of a oneOf.
std::vector<json> request_schemas(const Operation& op) {
  if (!op.spec.contains("requestBody")) return {};
  const json& schema = resolve(op.spec["requestBody"]["content"]["application/json"]["schema"]);
  if (!schema.contains("oneOf")) return {schema};
  std::vector<json> out;
  for (const json& alt : schema["oneOf"]) out.push_back(resolve(alt));
  return out;
}

TEST(OpenApi, EveryRouteIsDocumentedWithItsMethod) {
  ApiHarness h;
  for (const auto& route : h.router.routes()) {
    const std::string where = std::string(method_name(route.method)) + " " + route.pattern;
    ASSERT_TRUE(doc()["paths"].contains(route.pattern)) << where << " is not documented";
    EXPECT_TRUE(doc()["paths"][route.pattern].contains(doc_method(route.method)))
        << where << " is not documented";
  }
}

TEST(OpenApi, EveryDocumentedOperationIsServed) {
  ApiHarness h;
  for (const Operation& op : operations()) {
    bool served = false;
    for (const auto& route : h.router.routes()) {
      served |= route.pattern == op.path && route.method == op.method;
    }
    EXPECT_TRUE(served) << doc_method(op.method) << " " << op.path << " is documented, not served";
    for (const auto& [key, _] : doc()["paths"][op.path].items()) {
      bool known = key == "parameters" || key == "summary" || key == "description";
      for (const auto& [name, m] : kMethods) known |= key == name;
      EXPECT_TRUE(known) << op.path << ": unexpected key " << key;
    }
  }
}

// An API in the phase the operation is documented for, with a boot source set (so that
// InstanceStart, the /actions example, can succeed), and the example's file fields pointing
// at real files.
class PhasedApi {
 public:
  PhasedApi(const Operation& op, bool wrong_phase) {
    // pre-boot and post-boot: before and after InstanceStart; paused: started and paused
    // (wrong: running); first: before anything is configured (wrong: started).
    const std::string phase = op.spec.at("x-vessel-phase");
    EXPECT_TRUE(phase == "pre-boot" || phase == "post-boot" || phase == "any" ||
                phase == "paused" || phase == "first")
        << phase;
    if (phase == "first" && !wrong_phase) return;
    h.call(Method::kPut, "/boot-source", json{{"kernel_image_path", dir.file("Image")}});
    // The balloon's operations need a balloon, with statistics, from before the start.
    if (op.path.starts_with("/balloon") && op.path != "/balloon") {
      EXPECT_EQ(
          h.call(
               Method::kPut, "/balloon",
               json{{"amount_mib", 0}, {"deflate_on_oom", false}, {"stats_polling_interval_s", 1}})
              .status,
          204);
    }
    if (op.path == "/balloon" && op.method != Method::kPut) {
      h.call(Method::kPut, "/balloon", json{{"amount_mib", 0}, {"deflate_on_oom", false}});
    }
    // MMDS serves interfaces already PUT (the examples name eth0), and patches a document PUT.
    if (op.path == "/mmds/config") {
      EXPECT_EQ(h.call(Method::kPut, "/network-interfaces/eth0",
                       json{{"iface_id", "eth0"}, {"vessel_user_net", json::object()}})
                    .status,
                204);
    }
    if (op.path == "/mmds" && op.method == Method::kPatch) {
      EXPECT_EQ(h.call(Method::kPut, "/mmds", json::object()).status, 204);
    }
    const bool start = phase == "post-boot" || phase == "paused" ? !wrong_phase || phase == "paused"
                                                                 : wrong_phase && phase != "any";
    if (start) {
      EXPECT_EQ(h.call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}).status,
                204);
    }
    if (phase == "paused" && !wrong_phase) {
      EXPECT_EQ(h.call(Method::kPatch, "/vm", json{{"state", "Paused"}}).status, 204);
    }
  }

  http::Response call(const Operation& op, const json& schema, std::optional<json> body) {
    if (body) {
      const json properties = schema.value("properties", json::object());
      fill_paths(properties, *body);
    }
    // Path parameters take the body's value of the same name.
    std::string path = op.path;
    for (size_t open; (open = path.find('{')) != std::string::npos;) {
      const size_t close = path.find('}', open);
      const std::string name = path.substr(open + 1, close - open - 1);
      const std::string value =
          body && body->contains(name) ? (*body)[name].get<std::string>() : "test";
      path.replace(open, close - open + 1, value);
    }
    return h.call(op.method, path, std::move(body));
  }

  // A path field (one level of nested objects too) names a real file.
  void fill_paths(const json& properties, json& body) {
    for (auto& [key, value] : body.items()) {
      const auto prop = properties.find(key);
      if (prop == properties.end()) continue;
      if (prop->value("format", "") == "path") {
        value = dir.file(key + "-" + std::to_string(n_++));
      } else if (value.is_object() && prop->contains("properties")) {
        fill_paths((*prop)["properties"], value);
      }
    }
  }

  ApiHarness h;

 private:
  ScratchDir dir;
  int n_ = 0;
};

TEST(OpenApi, RequiredFieldsAreWhatTheHandlersRequire) {
  int checked = 0;
  for (const Operation& op : operations()) {
    for (const json& schema : request_schemas(op)) {
      const std::string where = std::string(doc_method(op.method)) + " " + op.path;
      ASSERT_TRUE(schema.contains("example")) << where << ": a schema without an example";
      const json example = schema["example"];
      if (schema.value("additionalProperties", false) == true) {
        // A free-form document (the MMDS store's): no fields to check, but its example is taken.
        PhasedApi free_form(op, false);
        const http::Response r = free_form.call(op, schema, example);
        EXPECT_EQ(r.status, 204) << where << " " << example.dump() << ": " << fault(r);
        continue;
      }
      EXPECT_FALSE(schema.value("additionalProperties", true)) << where;
      // The example shows every documented field, so accepting it accepts them all.
      std::set<std::string> props, fields;
      for (const auto& [k, _] : schema["properties"].items()) props.insert(k);
      for (const auto& [k, _] : example.items()) fields.insert(k);
      EXPECT_EQ(props, fields) << where << ": the example should show every property";
      const json required = schema.value("required", json::array());

      // 204, or 200 for an operation documented to answer with a body (PUT /vessel/migrate).
      const int ok = op.spec["responses"].contains("200") ? 200 : 204;
      PhasedApi whole(op, false);
      const http::Response r = whole.call(op, schema, example);
      EXPECT_EQ(r.status, ok) << where << " " << example.dump() << ": " << fault(r);

      for (const auto& [field, _] : example.items()) {
        json body = example;
        body.erase(field);
        PhasedApi without(op, false);
        const http::Response res = without.call(op, schema, body);
        const bool is_required =
            std::find(required.begin(), required.end(), field) != required.end();
        if (is_required) {
          EXPECT_EQ(res.status, 400) << where << " accepts a body without required " << field;
          EXPECT_NE(fault(res).find(field), std::string::npos)
              << where << " without " << field << ": " << fault(res);
        } else {
          EXPECT_EQ(res.status, ok)
              << where << " refuses a body without optional " << field << ": " << fault(res);
        }
        ++checked;
      }

      json extra = example;
      extra["not_in_the_schema"] = 1;
      PhasedApi unknown(op, false);
      const http::Response res = unknown.call(op, schema, extra);
      EXPECT_EQ(res.status, 400) << where;
      EXPECT_NE(fault(res).find("unknown field 'not_in_the_schema'"), std::string::npos)
          << where << ": " << fault(res);
    }
  }
  EXPECT_GT(checked, 20);
}

TEST(OpenApi, DocumentedPhasesAreEnforced) {
  int checked = 0;
  for (const Operation& op : operations()) {
    if (op.spec["x-vessel-phase"] == "any") continue;
    const auto schemas = request_schemas(op);
    const std::optional<json> body =
        schemas.empty() ? std::nullopt : std::optional<json>(schemas[0]["example"]);
    PhasedApi wrong(op, true);
    const http::Response r = wrong.call(op, schemas.empty() ? json::object() : schemas[0], body);
    EXPECT_EQ(r.status, 400) << doc_method(op.method) << " " << op.path << " in the wrong phase";
    EXPECT_NE(fault(r).find("microVM"), std::string::npos) << fault(r);
    ++checked;
  }
  EXPECT_GE(checked, 7);
}

TEST(OpenApi, GetAnswersCarryTheRequiredFields) {
  for (const Operation& op : operations()) {
    if (op.method != Method::kGet) continue;
    PhasedApi api(op, false);
    const http::Response r = api.call(op, json::object(), std::nullopt);
    ASSERT_EQ(r.status, 200) << op.path << ": " << fault(r);
    const json& schema =
        resolve(op.spec["responses"]["200"]["content"]["application/json"]["schema"]);
    for (const json& field : schema.value("required", json::array())) {
      EXPECT_TRUE(r.body->contains(field.get<std::string>())) << op.path << " lacks " << field;
    }
    for (const auto& [key, _] : r.body->items()) {
      EXPECT_TRUE(schema.value("additionalProperties", false) ||
                  schema.value("properties", json::object()).contains(key))
          << op.path << " answers with undocumented " << key;
    }
  }
}

}  // namespace
}  // namespace vessel::api
