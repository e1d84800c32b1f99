// A thin C++ face on libfdt's sequential-write API. Nodes are written depth-first in order;
// the board opens /soc and each device adds its own node inside it.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace vessel {

class FdtWriter {
 public:
  explicit FdtWriter(size_t capacity = 64 * 1024);

  void begin_node(std::string_view name);
  void end_node();
  void prop_empty(std::string_view name);
  void prop_u32(std::string_view name, uint32_t value);
  void prop_u64(std::string_view name, uint64_t value);
  void prop_cells(std::string_view name, const std::vector<uint32_t>& cells);
  void prop_string(std::string_view name, std::string_view value);
  void prop_strings(std::string_view name, std::initializer_list<std::string_view> values);
  void prop_bytes(std::string_view name, const void* data, size_t len);
  // `reg` with #address-cells = #size-cells = 2.
  void prop_reg(uint64_t base, uint64_t size);

  uint32_t alloc_phandle() { return next_phandle_++; }

  // Finish the blob, with `free_space` bytes of room at its end inside its totalsize; reports
  // the first libfdt error met while writing, if any.
  Result<std::vector<uint8_t>> finish(size_t free_space = 0);

 private:
  void check(int rc, std::string_view what);
  std::vector<uint8_t> buf_;
  std::string first_error_;
  uint32_t next_phandle_ = 1;
};

// Node name with unit address, e.g. node_name("serial", 0x10000000) == "serial@10000000".
std::string node_name(std::string_view base_name, uint64_t unit_address);

}  // namespace vessel
