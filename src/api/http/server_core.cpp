#include "api/http/server_core.hpp"

namespace vessel::http {

bool Core::admit(const std::shared_ptr<Closable>& c) {
  std::lock_guard lock(mu);
  if (stopping) return false;
  std::erase_if(open, [](const auto& w) { return w.expired(); });
  open.push_back(c);
  return true;
}

bool Core::overloaded() {
  std::lock_guard lock(mu);
  return connections >= 2 * (options.max_connections + options.max_idle_connections);
}

uint64_t Core::enter_idle(const std::weak_ptr<Closable>& c, uint64_t ticket) {
  std::shared_ptr<Closable> oldest;
  {
    std::lock_guard lock(mu);
    if (ticket != 0 && waiting.contains(ticket)) return ticket;
    ticket = ++last_ticket;
    waiting.emplace(ticket, c);
    if (waiting.size() > options.max_idle_connections) {
      oldest = waiting.begin()->second.lock();
      waiting.erase(waiting.begin());
    }
  }
  if (oldest) oldest->evict();
  return ticket;
}

void Core::leave_idle(uint64_t ticket) {
  std::lock_guard lock(mu);
  waiting.erase(ticket);
}

Response Core::error(int status, std::string message) const {
  return Response::error(status, std::move(message), options.error_field);
}

bool Core::is_public(std::string_view path) const {
  for (const std::string& p : options.public_paths) {
    if (p.size() > 1 && p.back() == '/' ? path.starts_with(p) : path == p) return true;
  }
  return false;
}

std::optional<BusySlot> BusySlot::take(const std::shared_ptr<Core>& core) {
  std::lock_guard lock(core->mu);
  if (core->busy >= core->options.max_connections) return std::nullopt;
  ++core->busy;
  return BusySlot(core);
}

BusySlot::~BusySlot() {
  if (!core_) return;  // moved from
  std::lock_guard lock(core_->mu);
  --core_->busy;
}

Counted::Counted(std::shared_ptr<Core> core) : core_(std::move(core)) {
  std::lock_guard lock(core_->mu);
  ++core_->connections;
}

Counted::~Counted() {
  std::lock_guard lock(core_->mu);
  --core_->connections;
  core_->all_closed.notify_all();
}

}  // namespace vessel::http
