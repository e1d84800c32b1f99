// The stub's Target over a running VirtMachine: registers and CSRs of its harts, memory
// through a hart's page tables (RAM and ROM only: a debugger's read of a device register
// could pop a byte off a FIFO), and breakpoints and watchpoints in the harts' DebugControl.
#pragma once

#include "board/virt.hpp"
#include "cpu/riscv/debug_control.hpp"
#include "gdb/stub.hpp"

namespace vessel::gdb {

class VmTarget : public Target {
 public:
  // At most this many of each: a client cannot make every instruction scan a long list.
  static constexpr size_t kMaxBreakpoints = 256;
  static constexpr size_t kMaxWatchpoints = 16;

  explicit VmTarget(rv::DebugControl& control) : control_(control) {}
  // The machine of the current boot; nullptr while a reboot replaces it.
  void set_machine(VirtMachine* machine) { machine_ = machine; }

  unsigned num_harts() const override { return control_.num_harts(); }
  bool read_register(unsigned hart, unsigned regno, uint64_t& value) override;
  bool write_register(unsigned hart, unsigned regno, uint64_t value) override;
  size_t read_memory(unsigned hart, uint64_t addr, std::span<uint8_t> out) override;
  size_t write_memory(unsigned hart, uint64_t addr, std::span<const uint8_t> in) override;
  bool set_breakpoint(uint64_t addr, bool insert) override;
  bool set_watchpoint(rv::DebugControl::WatchKind kind, uint64_t addr, uint64_t len,
                      bool insert) override;

 private:
  // The host bytes behind [va, va + len) within one page of `hart`'s view, or nullptr.
  uint8_t* host_bytes(unsigned hart, uint64_t va, uint64_t len, bool write);

  VirtMachine* machine_ = nullptr;
  rv::DebugControl& control_;
};

}  // namespace vessel::gdb
