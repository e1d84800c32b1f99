#include "api/http/server_core.hpp"

namespace vessel::http {

bool Core::admit(const std::shared_ptr<Closable>& c) {
  std::lock_guard lock(mu);
  if (stopping) return false;
  std::erase_if(open, [](const auto& w) { return w.expired(); });
  open.push_back(c);
  return true;
}

bool Core::full() {
  std::lock_guard lock(mu);
  return connections >= options.max_connections;
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
