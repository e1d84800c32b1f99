#include "api/http/client.hpp"

#include <fmt/format.h>
#include <sys/un.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace vessel::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

namespace {

// One exchange on a connected-to-be socket, all of it within `timeout`: the io_context runs
// for that long at most, then whatever is still pending is abandoned with the context.
template <class Protocol>
Result<ClientResponse> exchange(const typename Protocol::endpoint& endpoint,
                                const std::string& name, bhttp::request<bhttp::string_body> req,
                                std::chrono::milliseconds timeout) {
  net::io_context ioc;
  typename Protocol::socket socket(ioc);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(Client::kMaxResponse);
  error_code result = net::error::timed_out;
  const char* stage = "no answer";

  socket.async_connect(endpoint, [&](error_code ec) {
    if (ec) {
      result = ec;
      stage = "cannot connect";
      return;
    }
    bhttp::async_write(socket, req, [&](error_code wec, size_t) {
      if (wec) {
        result = wec;
        stage = "cannot send the request";
        return;
      }
      bhttp::async_read(socket, buffer, parser, [&](error_code rec, size_t) {
        result = rec;
        stage = "cannot read the response";
      });
    });
  });
  ioc.run_for(timeout);
  if (result == net::error::timed_out) {
    return make_error(fmt::format("{}: no complete answer within {} ms", name, timeout.count()));
  }
  if (result) return make_error(fmt::format("{}: {}: {}", name, stage, result.message()));

  auto& res = parser.get();
  ClientResponse out;
  out.status = static_cast<int>(res.result_int());
  out.text = std::move(res.body());
  if (!out.text.empty()) {
    const std::string_view type(res[bhttp::field::content_type].data(),
                                res[bhttp::field::content_type].size());
    out.body = nlohmann::json::parse(out.text, nullptr, false);
    if (out.body.is_discarded()) {
      if (type.starts_with("application/json")) {
        return make_error(fmt::format("{}: the response says it is JSON and is not", name));
      }
      out.body = nullptr;
    }
  }
  return out;
}

}  // namespace

Client Client::unix_socket(std::string path, std::chrono::milliseconds timeout) {
  Client c;
  c.unix_path_ = std::move(path);
  c.timeout_ = timeout;
  return c;
}

Client Client::tcp(uint16_t port, std::string token, std::chrono::milliseconds timeout,
                   std::string host) {
  Client c;
  c.host_ = std::move(host);
  c.port_ = port;
  c.token_ = std::move(token);
  c.timeout_ = timeout;
  return c;
}

Result<ClientResponse> Client::request(Method method, std::string_view target,
                                       const std::optional<nlohmann::json>& body) const {
  bhttp::request<bhttp::string_body> req;
  req.method_string(std::string(method_name(method)));
  req.target(std::string(target));
  req.version(11);
  req.set(bhttp::field::host, unix_path_.empty() ? host_ : "localhost");
  req.set(bhttp::field::accept, "application/json");
  req.keep_alive(false);
  if (!token_.empty()) req.set(bhttp::field::authorization, "Bearer " + token_);
  if (body) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  req.prepare_payload();

  if (!unix_path_.empty()) {
    if (unix_path_.size() >= sizeof(sockaddr_un::sun_path)) {
      return make_error(fmt::format("{}: Unix socket path too long", unix_path_));
    }
    return exchange<net::local::stream_protocol>(net::local::stream_protocol::endpoint(unix_path_),
                                                 unix_path_, std::move(req), timeout_);
  }
  error_code ec;
  const auto address = net::ip::make_address(host_, ec);
  if (ec) return make_error(fmt::format("{}: not an IP address", host_));
  return exchange<net::ip::tcp>(net::ip::tcp::endpoint(address, port_),
                                fmt::format("{}:{}", host_, port_), std::move(req), timeout_);
}

}  // namespace vessel::http
