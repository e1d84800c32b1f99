#include "devices/sifive_test/sifive_test.hpp"

#include <optional>
#include <utility>

#include "bus/fdt.hpp"

namespace vessel {

SifiveTest::SifiveTest(Handler handler) : handler_(std::move(handler)) {}

bool SifiveTest::read(uint64_t offset, unsigned size, uint64_t& value) {
  value = 0;
  return offset < kWindowSize && size >= 2;
}

bool SifiveTest::write(uint64_t offset, unsigned size, uint64_t value) {
  // OpenSBI writes 16 bits, Linux's syscon regmap 32; byte writes cannot form a command.
  if (offset >= kWindowSize || size < 2) return false;
  if (offset != kFinisher) return true;
  const auto word = static_cast<uint32_t>(value);
  const uint32_t status = word & 0xffff;
  std::optional<PowerRequest> request;
  if (status == kPass) request = PowerRequest{PowerRequest::kPoweroff, 0};
  if (status == kReset) request = PowerRequest{PowerRequest::kReset, 0};
  if (status == kFail) request = PowerRequest{PowerRequest::kFail, word >> 16};
  if (request && handler_) handler_(*request);
  return true;
}

void SifiveTest::add_fdt_node(FdtWriter& fdt, const FdtContext& ctx) const {
  fdt.begin_node(node_name("test", ctx.base));
  fdt.prop_strings("compatible", {"sifive,test1", "sifive,test0", "syscon"});
  fdt.prop_reg(ctx.base, ctx.size);
  fdt.prop_u32("phandle", ctx.phandle);
  fdt.end_node();
}

// poweroff and reboot have no registers of their own: they live at the root, as on QEMU, and
// point at the test device through its phandle.
void SifiveTest::add_root_fdt_nodes(FdtWriter& fdt, const FdtContext& ctx) const {
  const uint32_t phandle = ctx.phandle;
  fdt.begin_node("poweroff");
  fdt.prop_string("compatible", "syscon-poweroff");
  fdt.prop_u32("regmap", phandle);
  fdt.prop_u32("offset", static_cast<uint32_t>(kFinisher));
  fdt.prop_u32("value", kPass);
  fdt.end_node();

  fdt.begin_node("reboot");
  fdt.prop_string("compatible", "syscon-reboot");
  fdt.prop_u32("regmap", phandle);
  fdt.prop_u32("offset", static_cast<uint32_t>(kFinisher));
  fdt.prop_u32("value", kReset);
  fdt.end_node();
}

}  // namespace vessel
