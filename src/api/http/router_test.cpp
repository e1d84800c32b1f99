// The route table on its own: patterns, parameters, precedence, 404/405, and request bodies.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "api/http/json_body.hpp"
#include "api/http/router.hpp"

namespace vessel::http {
namespace {

Handler answer(std::string name) {
  return [name](const Request&) { return Response::json(200, {{"route", name}}); };
}

std::string route_of(const Router& router, Method method, std::string_view path) {
  const Router::Match m = router.match(method, path);
  if (m.outcome != Router::Outcome::kFound || m.handler == nullptr) return "";
  return (*m.handler)(Request{}).body->at("route").get<std::string>();
}

TEST(Router, LiteralAndParameterRoutes) {
  Router r;
  r.add(Method::kGet, "/", answer("root"));
  r.add(Method::kGet, "/vm", answer("vm"));
  r.add(Method::kGet, "/vm/config", answer("config"));
  r.add(Method::kPut, "/drives/{drive_id}", answer("drive"));
  EXPECT_EQ(route_of(r, Method::kGet, "/"), "root");
  EXPECT_EQ(route_of(r, Method::kGet, "/vm"), "vm");
  EXPECT_EQ(route_of(r, Method::kGet, "/vm/config"), "config");
  EXPECT_EQ(route_of(r, Method::kPut, "/drives/rootfs"), "drive");

  const Router::Match m = r.match(Method::kPut, "/drives/root%2Dfs");
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(m.params.at("drive_id"), "root-fs");
}

TEST(Router, UnknownPathsAreNotFound) {
  Router r;
  r.add(Method::kGet, "/vm", answer("vm"));
  r.add(Method::kPut, "/drives/{id}", answer("drive"));
  for (const char* path : {"", "vm", "/vm/", "/vmx", "/vm/config", "//vm", "/drives", "/drives/",
                           "/drives/a/b", "/drives/%zz", "/drives/%4"}) {
    EXPECT_EQ(r.match(Method::kPut, path).outcome, Router::Outcome::kNotFound) << path;
  }
}

TEST(Router, WrongMethodListsTheAllowedOnes) {
  Router r;
  r.add(Method::kGet, "/machine-config", answer("get"));
  r.add(Method::kPut, "/machine-config", answer("put"));
  r.add(Method::kPatch, "/machine-config", answer("patch"));
  const Router::Match m = r.match(Method::kDelete, "/machine-config");
  EXPECT_EQ(m.outcome, Router::Outcome::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, (std::vector<Method>{Method::kGet, Method::kPut, Method::kPatch}));
  EXPECT_EQ(route_of(r, Method::kPatch, "/machine-config"), "patch");
}

TEST(Router, MoreLiteralSegmentsWin) {
  Router r;
  r.add(Method::kGet, "/a/{x}", answer("param"));
  r.add(Method::kGet, "/a/b", answer("literal"));
  EXPECT_EQ(route_of(r, Method::kGet, "/a/b"), "literal");
  EXPECT_EQ(route_of(r, Method::kGet, "/a/c"), "param");
}

TEST(Router, WebSocketRoutesAreMarked) {
  Router r;
  r.add_websocket("/console", [](const Request&, std::shared_ptr<WebSocket>) {
    return std::variant<WebSocketCallbacks, Response>(WebSocketCallbacks{});
  });
  const Router::Match m = r.match(Method::kGet, "/console");
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_NE(m.websocket, nullptr);
  ASSERT_EQ(r.routes().size(), 1U);
  EXPECT_TRUE(r.routes()[0].websocket);
}

TEST(Router, MalformedOrDuplicatePatternsAreRefused) {
  Router r;
  r.add(Method::kGet, "/x/{id}", answer("x"));
  EXPECT_THROW(r.add(Method::kGet, "/x/{id}", answer("again")), std::invalid_argument);
  for (const char* bad : {"", "x", "/x/", "/a//b", "/a/{", "/a/{}", "/a/b{c}", "/a/{b}c"}) {
    EXPECT_THROW(r.add(Method::kPut, bad, answer("bad")), std::invalid_argument) << bad;
  }
}

TEST(Router, MethodNames) {
  for (Method m : {Method::kGet, Method::kPut, Method::kPatch, Method::kPost, Method::kDelete}) {
    EXPECT_EQ(parse_method(method_name(m)), m);
  }
  EXPECT_FALSE(parse_method("get").has_value());
  EXPECT_FALSE(parse_method("BREW").has_value());
}

TEST(PercentDecode, EscapesAndMalformedOnes) {
  EXPECT_EQ(percent_decode("a%20b%2fc"), "a b/c");
  EXPECT_EQ(percent_decode("plain"), "plain");
  EXPECT_FALSE(percent_decode("%").has_value());
  EXPECT_FALSE(percent_decode("%2").has_value());
  EXPECT_FALSE(percent_decode("%g0").has_value());
}

TEST(JsonBody, EmptyIsNoBody) {
  auto r = parse_json_body(" \r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(JsonBody, ParsesOneValue) {
  auto r = parse_json_body(R"({"a": [1, "x]"]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((**r)["a"][1], "x]");
}

TEST(JsonBody, MalformedNamesThePlace) {
  auto r = parse_json_body("{\"a\": }");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("malformed JSON body: parse error at line 1, column 7"),
            std::string::npos)
      << r.error().message;
  EXPECT_FALSE(parse_json_body("{} {}").ok());
}

TEST(JsonBody, NumbersTooLargeForADoubleAreMalformed) {
  // nlohmann reports these as out_of_range, not parse_error (found by firecracker_api_fuzz).
  auto r = parse_json_body(R"({"vcpu_count": 9999999999999999e9999})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("malformed JSON body: number overflow"), std::string::npos)
      << r.error().message;
}

TEST(JsonBody, DeepNestingIsRefusedBeforeParsing) {
  EXPECT_TRUE(
      parse_json_body(std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']')).ok());
  auto r = parse_json_body(std::string(64 * 1024, '['));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nested deeper"), std::string::npos);
  // Brackets inside strings do not count.
  EXPECT_TRUE(parse_json_body("[\"" + std::string(100, '[') + "\\\"\"]").ok());
}

}  // namespace
}  // namespace vessel::http
