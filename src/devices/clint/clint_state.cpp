#include <string>
#include <utility>
#include <vector>

#include "devices/clint/clint.hpp"

namespace vessel {

namespace {
constexpr std::string_view kClintTag = "clint/1";
}

// The CLINT's registers live in HartIrq and MachineClock; saving them here keeps the CLINT
// the one owner of what the guest programmed through it.
void Clint::save(StateWriter& out) const {
  out.begin(kClintTag);
  out.put<uint64_t>(clock_.mtime());
  out.put<uint32_t>(static_cast<uint32_t>(harts_.size()));
  for (const HartIrq* h : harts_) {
    const uint64_t pending = h != nullptr ? h->pending() : 0;
    out.put<uint8_t>(
        static_cast<uint8_t>((pending >> static_cast<unsigned>(InterruptBit::kMSIP)) & 1));
    out.put<uint64_t>(h != nullptr ? h->mtimecmp() : HartIrq::kNoDeadline);
  }
}

Result<void> Clint::restore(StateReader& in) {
  TRY_VOID(in.expect(kClintTag));
  const auto mtime = TRY(in.get<uint64_t>());
  const auto count = TRY(in.get<uint32_t>());
  if (count != harts_.size()) {
    return make_error("clint state: saved for " + std::to_string(count) + " harts, machine has " +
                      std::to_string(harts_.size()));
  }
  std::vector<std::pair<uint8_t, uint64_t>> regs;
  for (uint32_t i = 0; i < count; ++i) {
    const auto msip = TRY(in.get<uint8_t>());
    const auto mtimecmp = TRY(in.get<uint64_t>());
    if (msip > 1) return make_error("clint state: msip out of range");
    regs.emplace_back(msip, mtimecmp);
  }
  clock_.set_mtime(mtime);
  for (size_t i = 0; i < harts_.size(); ++i) {
    if (harts_[i] == nullptr) continue;
    harts_[i]->set(InterruptBit::kMSIP, regs[i].first != 0);
    harts_[i]->set_mtimecmp(regs[i].second);
  }
  return {};
}

}  // namespace vessel
