// The GDB stub's answers: one parsed Command in, the reply (and what the connection does
// next) out, against a Target that reads and writes the halted harts. It owns no socket and
// no thread (server.cpp has those), so tests and the fuzzer drive it directly.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cpu/riscv/debug_control.hpp"
#include "gdb/packet.hpp"

namespace vessel::gdb {

// What the stub needs of the machine (vm_target.cpp; a fake in tests). Every method runs
// only while all harts are halted.
class Target {
 public:
  virtual ~Target() = default;
  virtual unsigned num_harts() const = 0;
  // By protocol number (registers.hpp); false when the hart has no such register.
  virtual bool read_register(unsigned hart, unsigned regno, uint64_t& value) = 0;
  virtual bool write_register(unsigned hart, unsigned regno, uint64_t value) = 0;
  // Through the hart's current address translation, without side effects on the guest: the
  // number of bytes done from addr on, up to the first that does not map to memory.
  virtual size_t read_memory(unsigned hart, uint64_t addr, std::span<uint8_t> out) = 0;
  virtual size_t write_memory(unsigned hart, uint64_t addr, std::span<const uint8_t> in) = 0;
  // Breakpoints (software or hardware alike: pc is compared before each instruction) and
  // watchpoints; false when there are too many or the range is unusable.
  virtual bool set_breakpoint(uint64_t addr, bool insert) = 0;
  virtual bool set_watchpoint(rv::DebugControl::WatchKind kind, uint64_t addr, uint64_t len,
                              bool insert) = 0;
};

// Why the harts stopped, as a stop reply tells it.
struct StopInfo {
  unsigned hart = 0;
  int signal = 5;  // SIGTRAP; SIGINT (2) for Ctrl-C
  rv::DebugControl::Why why = rv::DebugControl::Why::kStep;
  uint64_t watch_addr = 0;
};

struct Outcome {
  enum class Then : uint8_t { kReply, kResume, kDetach, kKill };
  Then then = Then::kReply;
  std::string reply;                              // sent for kReply and kDetach
  std::vector<rv::DebugControl::Action> actions;  // kResume: one per hart
};

class Stub {
 public:
  explicit Stub(Target& target) : target_(target) {}

  Outcome handle(const Command& c);
  // The stop reply for `stop`; the hart that stopped becomes the current thread.
  std::string stopped(const StopInfo& stop);
  // Whether QStartNoAckMode was accepted: no more '+' and '-'.
  bool no_ack() const { return no_ack_; }

 private:
  Outcome query(const Command& c);
  Outcome registers(const Command& c);
  Outcome memory(const Command& c);
  Outcome point(const Command& c);
  Outcome resume(const Command& c);
  Outcome set_thread(const Command& c);
  std::string read_features(const std::string& args) const;
  bool valid_thread(ThreadId t) const {
    return t == kAllThreads || t == kAnyThread ||
           (t > 0 && static_cast<uint64_t>(t) <= target_.num_harts());
  }

  Target& target_;
  unsigned current_ = 0;   // the hart g, p, m and s act on
  std::string last_stop_;  // the reply to '?'
  bool no_ack_ = false;
};

}  // namespace vessel::gdb
