// A small blocking client for Vessel's JSON APIs: one request per connection, over a Unix
// socket or TCP (with the bearer token), bounded by a timeout. For the CLI and the daemon.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "api/http/router.hpp"
#include "base/result.hpp"

namespace vessel::http {

struct ClientResponse {
  int status = 0;
  nlohmann::json body;  // null when the response had no body
  std::string text;     // the body as received
};

class Client {
 public:
  static Client unix_socket(std::string path,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // 127.0.0.1:port unless another host is given.
  static Client tcp(uint16_t port, std::string token,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10),
                    std::string host = "127.0.0.1");

  // Errors (cannot connect, no complete answer within the timeout, a body that says it is JSON
  // and is not) are one line naming the server. Any HTTP status is a response, not an error.
  Result<ClientResponse> request(Method method, std::string_view target,
                                 const std::optional<nlohmann::json>& body = std::nullopt) const;

  // Responses larger than this are refused.
  static constexpr size_t kMaxResponse = 16 << 20;

 private:
  Client() = default;
  std::string unix_path_;
  std::string host_;
  uint16_t port_ = 0;
  std::string token_;
  std::chrono::milliseconds timeout_{10'000};
};

}  // namespace vessel::http
