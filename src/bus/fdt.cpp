#include "bus/fdt.hpp"

#include <fmt/format.h>
#include <libfdt.h>

namespace vessel {

FdtWriter::FdtWriter(size_t capacity) : buf_(capacity) {
  check(fdt_create(buf_.data(), static_cast<int>(buf_.size())), "create");
  check(fdt_finish_reservemap(buf_.data()), "reservemap");
}

void FdtWriter::check(int rc, std::string_view what) {
  if (rc < 0 && first_error_.empty()) {
    first_error_ = fmt::format("device tree: {}: {}", what, fdt_strerror(rc));
  }
}

void FdtWriter::begin_node(std::string_view name) {
  const std::string n(name);
  check(fdt_begin_node(buf_.data(), n.c_str()), n);
}

void FdtWriter::end_node() { check(fdt_end_node(buf_.data()), "end_node"); }

void FdtWriter::prop_bytes(std::string_view name, const void* data, size_t len) {
  const std::string n(name);
  check(fdt_property(buf_.data(), n.c_str(), data, static_cast<int>(len)), n);
}

void FdtWriter::prop_empty(std::string_view name) { prop_bytes(name, nullptr, 0); }

void FdtWriter::prop_u32(std::string_view name, uint32_t value) {
  const fdt32_t v = cpu_to_fdt32(value);
  prop_bytes(name, &v, sizeof v);
}

void FdtWriter::prop_u64(std::string_view name, uint64_t value) {
  const fdt64_t v = cpu_to_fdt64(value);
  prop_bytes(name, &v, sizeof v);
}

void FdtWriter::prop_cells(std::string_view name, const std::vector<uint32_t>& cells) {
  std::vector<fdt32_t> be;
  be.reserve(cells.size());
  for (uint32_t c : cells) be.push_back(cpu_to_fdt32(c));
  prop_bytes(name, be.data(), be.size() * sizeof(fdt32_t));
}

void FdtWriter::prop_string(std::string_view name, std::string_view value) {
  std::string s(value);
  prop_bytes(name, s.c_str(), s.size() + 1);
}

void FdtWriter::prop_strings(std::string_view name,
                             std::initializer_list<std::string_view> values) {
  std::string joined;
  for (auto v : values) {
    joined.append(v);
    joined.push_back('\0');
  }
  prop_bytes(name, joined.data(), joined.size());
}

void FdtWriter::prop_reg(uint64_t base, uint64_t size) {
  prop_cells("reg", {static_cast<uint32_t>(base >> 32), static_cast<uint32_t>(base),
                     static_cast<uint32_t>(size >> 32), static_cast<uint32_t>(size)});
}

Result<std::vector<uint8_t>> FdtWriter::finish(size_t free_space) {
  check(fdt_finish(buf_.data()), "finish");
  if (!first_error_.empty()) return make_error(first_error_);
  const size_t used = fdt_totalsize(buf_.data());
  if (free_space > 0) {
    if (used + free_space > buf_.size()) buf_.resize(used + free_space);
    // In place: the blob becomes a read-write tree whose totalsize covers the free space.
    check(fdt_open_into(buf_.data(), buf_.data(), static_cast<int>(used + free_space)),
          "open_into");
    if (!first_error_.empty()) return make_error(first_error_);
  }
  buf_.resize(fdt_totalsize(buf_.data()));
  return buf_;
}

std::string node_name(std::string_view base_name, uint64_t unit_address) {
  return fmt::format("{}@{:x}", base_name, unit_address);
}

}  // namespace vessel
