// Helpers shared by the device unit tests: a recording interrupt controller, register access
// that must succeed, and a device tree built around one device and read back with libfdt.
#pragma once

#include <gtest/gtest.h>
#include <libfdt.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "bus/device.hpp"
#include "bus/fdt.hpp"
#include "devices/irq.hpp"

namespace vessel::testing {

class FakeController : public InterruptController {
 public:
  void set_irq(unsigned source, bool level) override {
    std::lock_guard<std::mutex> lock(mu_);
    levels_[source] = level;
    ++calls_;
  }
  bool level(unsigned source) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = levels_.find(source);
    return it != levels_.end() && it->second;
  }
  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  std::map<unsigned, bool> levels_;
  int calls_ = 0;
};

inline uint64_t rd(MmioDevice& d, uint64_t offset, unsigned size = 4) {
  uint64_t v = ~0ULL;
  EXPECT_TRUE(d.read(offset, size, v)) << d.name() << " read at " << offset;
  return v;
}
inline void wr(MmioDevice& d, uint64_t offset, uint64_t value, unsigned size = 4) {
  EXPECT_TRUE(d.write(offset, size, value)) << d.name() << " write at " << offset;
}

// A whole device tree (root, /soc, the device's nodes, its root-level nodes), validated by
// fdt_check_full.
inline std::vector<uint8_t> build_fdt(const MmioDevice& dev, const FdtContext& ctx) {
  FdtWriter w;
  w.begin_node("");
  w.prop_u32("#address-cells", 2);
  w.prop_u32("#size-cells", 2);
  w.begin_node("soc");
  w.prop_u32("#address-cells", 2);
  w.prop_u32("#size-cells", 2);
  w.prop_string("compatible", "simple-bus");
  w.prop_empty("ranges");
  dev.add_fdt_node(w, ctx);
  w.end_node();
  dev.add_root_fdt_nodes(w, ctx);
  w.end_node();
  auto blob = w.finish();
  EXPECT_TRUE(blob.ok()) << (blob.ok() ? "" : blob.error().message);
  if (!blob.ok()) return {};
  EXPECT_EQ(fdt_check_full(blob->data(), blob->size()), 0);
  return *blob;
}

inline int fdt_path(const std::vector<uint8_t>& fdt, const std::string& path) {
  const int node = fdt_path_offset(fdt.data(), path.c_str());
  EXPECT_GE(node, 0) << path;
  return node;
}

inline std::vector<std::string> fdt_strings(const std::vector<uint8_t>& fdt,
                                            const std::string& path, const char* prop) {
  std::vector<std::string> out;
  const int node = fdt_path(fdt, path);
  const int n = fdt_stringlist_count(fdt.data(), node, prop);
  for (int i = 0; i < n; ++i) {
    out.emplace_back(fdt_stringlist_get(fdt.data(), node, prop, i, nullptr));
  }
  return out;
}

inline std::vector<uint32_t> fdt_cells(const std::vector<uint8_t>& fdt, const std::string& path,
                                       const char* prop) {
  std::vector<uint32_t> out;
  int len = 0;
  const auto* p =
      static_cast<const fdt32_t*>(fdt_getprop(fdt.data(), fdt_path(fdt, path), prop, &len));
  EXPECT_NE(p, nullptr) << path << " " << prop;
  if (p == nullptr) return out;
  for (int i = 0; i < len / 4; ++i) out.push_back(fdt32_to_cpu(p[i]));
  return out;
}

inline bool fdt_has(const std::vector<uint8_t>& fdt, const std::string& path, const char* prop) {
  return fdt_getprop(fdt.data(), fdt_path(fdt, path), prop, nullptr) != nullptr;
}

// The `reg` cells of a (2, 2)-cell node as {base, size}.
inline std::pair<uint64_t, uint64_t> fdt_reg(const std::vector<uint8_t>& fdt,
                                             const std::string& path) {
  const auto c = fdt_cells(fdt, path, "reg");
  EXPECT_EQ(c.size(), 4U);
  if (c.size() != 4) return {};
  return {(uint64_t{c[0]} << 32) | c[1], (uint64_t{c[2]} << 32) | c[3]};
}

inline std::vector<uint8_t> saved(const MmioDevice& d) {
  StateWriter w;
  d.save(w);
  return w.bytes();
}

}  // namespace vessel::testing
