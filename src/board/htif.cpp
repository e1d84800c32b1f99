#include "board/htif.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "base/bits.hpp"
#include "base/log.hpp"

namespace vessel {

namespace {
constexpr uint64_t kPayloadMask = (uint64_t{1} << 48) - 1;

uint8_t device_of(uint64_t command) { return static_cast<uint8_t>(command >> 56); }
uint8_t command_of(uint64_t command) { return static_cast<uint8_t>(command >> 48); }
uint64_t payload_of(uint64_t command) { return command & kPayloadMask; }

// Exit codes travel as 47-bit values; the host keeps what fits an int, as fesvr does.
// Nonzero stays nonzero: a failure code too wide for an int must not read as a pass.
int exit_code(uint64_t code) {
  return static_cast<int>(std::min<uint64_t>(code, std::numeric_limits<int>::max()));
}
}  // namespace

Htif::Htif(Bus& bus, uint64_t tohost_addr, uint64_t fromhost_addr,
           std::function<void(uint8_t)> console_out)
    : bus_(bus),
      tohost_addr_(tohost_addr),
      fromhost_addr_(fromhost_addr),
      console_out_(std::move(console_out)) {}

std::optional<int> Htif::poll() {
  if (exit_) return exit_;
  flush_replies();
  uint64_t command = 0;
  if (!bus_.read_phys(tohost_addr_, &command, sizeof command) || command == 0) return exit_;
  // Cleared before handling, as fesvr does, so the guest may queue the next command at once.
  const uint64_t zero = 0;
  bus_.write_phys(tohost_addr_, &zero, sizeof zero);
  handle(command);
  flush_replies();
  return exit_;
}

void Htif::handle(uint64_t command) {
  const uint8_t device = device_of(command);
  const uint8_t cmd = command_of(command);
  const uint64_t payload = payload_of(command);

  if (device == kSyscallProxy && cmd == 0) {
    if ((payload & 1) != 0) {
      exit_ = exit_code(payload >> 1);
      return;
    }
    uint64_t magic_mem[8] = {};
    static LogLimiter limiter;  // the guest chooses the address, as often as it likes
    if (!bus_.read_phys(payload, magic_mem, sizeof magic_mem)) {
      // Nowhere to put a result; answer anyway so that the guest does not wait forever.
      log_limited(limiter, LogLevel::kWarn, "htif: syscall block at {:#x} is outside guest memory",
                  payload);
    } else {
      const int64_t result = syscall(magic_mem);
      magic_mem[0] = static_cast<uint64_t>(result);
      if (!bus_.write_phys(payload, magic_mem, sizeof magic_mem)) {
        log_limited(limiter, LogLevel::kWarn, "htif: syscall block at {:#x} is read-only", payload);
      }
    }
    reply(command, 1);
    return;
  }
  if (device == kBcd && cmd == kBcdWrite) {
    console_out_(static_cast<uint8_t>(payload & 0xff));
    return;
  }
  // kBcdRead: no console input source yet, so the request stays unanswered (the guest polls).
  // Other devices and commands (identify included) are ignored, as fesvr's null device does.
}

int64_t Htif::syscall(const uint64_t (&magic_mem)[8]) {
  switch (magic_mem[0]) {
    case kSysWrite: {
      const uint64_t fd = magic_mem[1], buf = magic_mem[2];
      const uint64_t len = std::min(magic_mem[3], kMaxWrite);
      if (fd != 1 && fd != 2) return -kEbadf;
      if (len == 0) return 0;
      const uint8_t* p = bus_.host_ptr(buf, len);
      if (p == nullptr) return -kEfault;
      for (uint64_t i = 0; i < len; ++i) console_out_(p[i]);
      return static_cast<int64_t>(len);
    }
    case kSysExit: exit_ = exit_code(magic_mem[1]); return 0;
    default: return -kEnosys;
  }
}

void Htif::reply(uint64_t command, uint64_t response) {
  if (fromhost_addr_ == 0) return;
  if (replies_.size() >= kMaxPendingReplies) return;  // the guest stopped reading fromhost
  replies_.push_back((command & ~kPayloadMask) | (response & kPayloadMask));
}

void Htif::flush_replies() {
  if (replies_.empty()) return;
  uint64_t fromhost = 0;
  if (!bus_.read_phys(fromhost_addr_, &fromhost, sizeof fromhost)) {
    replies_.clear();  // fromhost lies outside guest memory: nobody can receive replies
    return;
  }
  // Only into an empty fromhost: the guest clears it after consuming a reply.
  if (fromhost != 0) return;
  if (!bus_.write_phys(fromhost_addr_, &replies_.front(), sizeof(uint64_t))) replies_.clear();
  if (!replies_.empty()) replies_.pop_front();
}

}  // namespace vessel
