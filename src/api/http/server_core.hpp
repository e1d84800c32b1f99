// What the server's connections share; internal to the server (server.cpp, http_session.cpp,
// websocket_session.cpp). No Boost here, and no io_context: pending handlers hold sessions,
// sessions hold the core, and the server must be able to destroy those handlers.
//
// Two budgets keep clients that do nothing from starving those that work:
//   idle  connections waiting for a request, or serving one that did not give the token (TCP):
//         at most max_idle_connections; one more closes the one that has waited longest, so a
//         crowd of silent connections cannot keep a client out, it only ages out sooner;
//   busy  connections serving a request that gave the token (any request on the Unix socket),
//         and WebSockets: at most max_connections; a request over that is answered 503.
// Only the token (or the Unix socket's file mode) earns a busy slot, which idle connections
// never hold.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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
    // Any thread: posts a close that happens only if the connection is still idle then.
    virtual void evict() {}
  };

  Router router;
  ServerOptions options;

  std::mutex mu;
  std::condition_variable all_closed;  // connections reached 0
  size_t connections = 0;
  size_t busy = 0;
  bool stopping = false;
  // The idle budget, oldest first: tickets grow with each entry.
  std::map<uint64_t, std::weak_ptr<Closable>> waiting;
  uint64_t last_ticket = 0;
  std::vector<std::weak_ptr<Closable>> open;
  // Detached by stop() before the io_context goes, so no handle posts to it afterwards.
  std::vector<std::weak_ptr<WebSocketHandle>> handles;

  Core(Router r, ServerOptions o) : router(std::move(r)), options(std::move(o)) {}

  // False when the server is stopping.
  bool admit(const std::shared_ptr<Closable>& c);
  // So many connections altogether (idle ones being closed, but not gone yet) that a new one
  // is refused before anything is read from it.
  bool overloaded();
  // `c` waits in the idle budget under the ticket returned: `ticket` itself when it still
  // holds its place there, else a new one, which may close the one that has waited longest.
  uint64_t enter_idle(const std::weak_ptr<Closable>& c, uint64_t ticket);
  void leave_idle(uint64_t ticket);
  // An error the server answers itself, in the shape the options ask for.
  Response error(int status, std::string message) const;
  bool is_public(std::string_view path) const;
};

// One of max_connections, held for as long as the object lives (a request's, then its
// WebSocket's when it upgrades).
class BusySlot {
 public:
  // Nullopt when they are all taken.
  static std::optional<BusySlot> take(const std::shared_ptr<Core>& core);
  BusySlot(BusySlot&& other) noexcept : core_(std::move(other.core_)) {}
  BusySlot& operator=(BusySlot&&) = delete;
  BusySlot(const BusySlot&) = delete;
  ~BusySlot();

 private:
  explicit BusySlot(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  std::shared_ptr<Core> core_;
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
