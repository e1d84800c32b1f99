// What the server's connections share; internal to the server (server.cpp, http_session.cpp,
// websocket_session.cpp). No Boost here, and no io_context: pending handlers hold sessions,
// sessions hold the core, and the server must be able to destroy those handlers.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http/router.hpp"
#include "api/http/server.hpp"

namespace vessel::http {

class WebSocketHandle;

struct Core {
  struct Closable {
    virtual ~Closable() = default;
    virtual void shutdown() = 0;  // any thread: posts the close to the connection's strand
  };

  Router router;
  ServerOptions options;

  std::mutex mu;
  std::condition_variable all_closed;  // connections reached 0
  size_t connections = 0;
  bool stopping = false;
  std::vector<std::weak_ptr<Closable>> open;
  // Detached by stop() before the io_context goes, so no handle posts to it afterwards.
  std::vector<std::weak_ptr<WebSocketHandle>> handles;

  Core(Router r, ServerOptions o) : router(std::move(r)), options(std::move(o)) {}

  // False when the server is stopping.
  bool admit(const std::shared_ptr<Closable>& c);
  bool full();
  // An error the server answers itself, in the shape the options ask for.
  Response error(int status, std::string message) const;
  bool is_public(std::string_view path) const;
};

// Counts a connection for as long as its object lives.
class Counted {
 public:
  explicit Counted(std::shared_ptr<Core> core);
  ~Counted();
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;

 protected:
  std::shared_ptr<Core> core_;
};

}  // namespace vessel::http
