#include <string>

#include "devices/plic/plic.hpp"

namespace vessel {

namespace {
constexpr std::string_view kPlicTag = "plic/1";
}

void Plic::save(StateWriter& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out.begin(kPlicTag);
  for (uint32_t p : priority_) out.put(p);
  for (uint32_t w : pending_) out.put(w);
  for (uint32_t w : level_) out.put(w);
  for (uint32_t w : in_service_) out.put(w);
  out.put<uint32_t>(static_cast<uint32_t>(contexts_.size()));
  for (const Context& c : contexts_) {
    for (uint32_t w : c.enable) out.put(w);
    out.put(c.threshold);
  }
}

Result<void> Plic::restore(StateReader& in) {
  TRY_VOID(in.expect(kPlicTag));
  std::array<uint32_t, kNumSources> priority{};
  std::array<uint32_t, kWords> pending{};
  std::array<uint32_t, kWords> level{};
  std::array<uint32_t, kWords> in_service{};
  for (uint32_t& p : priority) p = TRY(in.get<uint32_t>());
  for (uint32_t& w : pending) w = TRY(in.get<uint32_t>());
  for (uint32_t& w : level) w = TRY(in.get<uint32_t>());
  for (uint32_t& w : in_service) w = TRY(in.get<uint32_t>());
  const auto count = TRY(in.get<uint32_t>());
  if (count != contexts_.size()) {
    return make_error("plic state: saved with " + std::to_string(count) +
                      " contexts, machine has " + std::to_string(contexts_.size()));
  }
  std::vector<Context> contexts(count);
  for (Context& c : contexts) {
    for (uint32_t& w : c.enable) w = TRY(in.get<uint32_t>());
    c.threshold = TRY(in.get<uint32_t>());
    if (c.threshold > kPriorityMask || (c.enable[0] & 1) != 0) {
      return make_error("plic state: context register out of range");
    }
  }
  if (priority[0] != 0 || (pending[0] & 1) != 0 || (in_service[0] & 1) != 0 ||
      (level[0] & 1) != 0) {
    return make_error("plic state: source 0 is not a source");
  }
  for (uint32_t p : priority) {
    if (p > kPriorityMask) return make_error("plic state: priority out of range");
  }

  std::lock_guard<std::mutex> lock(mu_);
  priority_ = priority;
  pending_ = pending;
  level_ = level;
  in_service_ = in_service;
  contexts_ = std::move(contexts);
  update_outputs(/*force=*/true);
  return {};
}

}  // namespace vessel
