// Spike's Host-Target Interface, as riscv-tests, riscv-pk and OpenSBI's HTIF console use it:
// the guest stores a command in the 64-bit `tohost` word in RAM and the host answers in
// `fromhost`. Command word: device [63:56], command [55:48], payload [47:0].
//   device 0 (syscall proxy), command 0: payload bit 0 set -> exit with code payload >> 1;
//     else payload is the address of magic_mem[8] = {syscall number, args...}; the result goes
//     to magic_mem[0] and fromhost becomes (device, command, 1).
//   device 1 (bcd console), command 1: putchar(payload & 0xff); command 0: read a character.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>

#include "bus/bus.hpp"

namespace vessel {

class Htif {
 public:
  // Proxied syscall numbers (RISC-V Linux, asm-generic) and the errno values returned; k-names
  // because <cerrno> and <sys/syscall.h> define the spec names as macros.
  enum Syscall : uint64_t { kSysWrite = 64, kSysExit = 93 };
  enum Errno : int64_t { kEbadf = 9, kEfault = 14, kEnosys = 38 };
  enum Device : uint8_t { kSyscallProxy = 0, kBcd = 1 };
  enum BcdCommand : uint8_t { kBcdRead = 0, kBcdWrite = 1 };

  // Bytes one SYS_write may move; a longer write is cut short (the guest sees a short write).
  static constexpr uint64_t kMaxWrite = 1 << 20;
  // Replies waiting for the guest to consume fromhost; beyond this, replies are dropped.
  static constexpr size_t kMaxPendingReplies = 64;

  // fromhost_addr 0: the program has no fromhost word (replies are dropped).
  Htif(Bus& bus, uint64_t tohost_addr, uint64_t fromhost_addr,
       std::function<void(uint8_t)> console_out);

  // Handles at most one command. Returns the exit code once the guest asked to exit
  // (0 = pass; riscv-tests report the failing test number), nullopt otherwise.
  std::optional<int> poll();

  uint64_t tohost_addr() const { return tohost_addr_; }
  uint64_t fromhost_addr() const { return fromhost_addr_; }

 private:
  void handle(uint64_t command);
  // Runs a proxied syscall; sets exit_ if it was SYS_exit. Returns the result for magic_mem[0].
  int64_t syscall(const uint64_t (&magic_mem)[8]);
  void reply(uint64_t command, uint64_t response);
  void flush_replies();

  Bus& bus_;
  uint64_t tohost_addr_;
  uint64_t fromhost_addr_;
  std::function<void(uint8_t)> console_out_;
  std::deque<uint64_t> replies_;
  std::optional<int> exit_;
};

}  // namespace vessel
