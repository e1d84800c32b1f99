// A Target of plain arrays for the stub's tests and its fuzzer: `harts` harts whose
// registers are numbers in a map, and one window of memory; the rest of the address space
// does not map.
#pragma once

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "gdb/registers.hpp"
#include "gdb/stub.hpp"

namespace vessel::gdb {

class FakeTarget : public Target {
 public:
  static constexpr uint64_t kMemBase = 0x80000000;
  explicit FakeTarget(unsigned harts, size_t memory = 0x2000)
      : harts_(harts), regs_(harts), memory_(memory) {}

  unsigned num_harts() const override { return harts_; }
  bool read_register(unsigned hart, unsigned regno, uint64_t& value) override {
    if (hart >= harts_ || regno > kRegPriv) return false;
    value = regs_[hart][regno];
    return true;
  }
  bool write_register(unsigned hart, unsigned regno, uint64_t value) override {
    if (hart >= harts_ || regno > kRegPriv) return false;
    if (regno != 0) regs_[hart][regno] = value;
    return true;
  }
  size_t read_memory(unsigned, uint64_t addr, std::span<uint8_t> out) override {
    const size_t n = mapped(addr, out.size());
    if (n > 0) std::memcpy(out.data(), memory_.data() + (addr - kMemBase), n);
    return n;
  }
  size_t write_memory(unsigned, uint64_t addr, std::span<const uint8_t> in) override {
    const size_t n = mapped(addr, in.size());
    if (n > 0) std::memcpy(memory_.data() + (addr - kMemBase), in.data(), n);
    return n;
  }
  bool set_breakpoint(uint64_t addr, bool insert) override {
    if (insert) {
      breakpoints.push_back(addr);
    } else {
      std::erase(breakpoints, addr);
    }
    return true;
  }
  bool set_watchpoint(rv::DebugControl::WatchKind, uint64_t, uint64_t len, bool) override {
    return len != 0;
  }

  std::vector<uint64_t> breakpoints;

 private:
  size_t mapped(uint64_t addr, size_t len) const {
    if (addr < kMemBase || addr - kMemBase >= memory_.size()) return 0;
    return std::min<size_t>(len, memory_.size() - (addr - kMemBase));
  }
  unsigned harts_;
  std::vector<std::map<unsigned, uint64_t>> regs_;
  std::vector<uint8_t> memory_;
};

}  // namespace vessel::gdb
