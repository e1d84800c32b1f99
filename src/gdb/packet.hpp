// The GDB remote serial protocol's packet layer: framing ($payload#checksum), acks, the
// out-of-band interrupt byte, escaping, hex, and parse(), which turns one packet's payload
// into a Command. Nothing here touches a hart: it is pure and fuzzed (tests/fuzz/gdb_fuzz.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vessel::gdb {

// The largest payload accepted and advertised (qSupported PacketSize). A longer packet is
// dropped whole and answered with a NAK; a memory read is capped to fit a reply.
inline constexpr size_t kMaxPacket = 0x4000;
inline constexpr size_t kMaxMemoryRead = (kMaxPacket - 16) / 2;

// Bytes from the client in, whole items out.
class PacketReader {
 public:
  struct Item {
    enum class Kind : uint8_t {
      kPacket,       // a packet whose checksum matched: payload holds it (still escaped)
      kInterrupt,    // 0x03 outside a packet: Ctrl-C
      kAck,          // '+'
      kNack,         // '-': resend the last reply
      kBadChecksum,  // answer '-'
      kTooLong,      // longer than kMaxPacket: answer '-'
    };
    Kind kind;
    std::string payload;
  };

  // Consumes every byte; items come out in order.
  void feed(std::string_view bytes, std::vector<Item>& out);

 private:
  enum class State : uint8_t { kIdle, kBody, kCheck1, kCheck2 };
  State state_ = State::kIdle;
  std::string body_;
  bool too_long_ = false;
  uint8_t sum_ = 0, check_ = 0;
};

// "$payload#xx" with '$', '#', '}' and '*' escaped.
std::string frame(std::string_view payload);
std::string to_hex(std::span<const uint8_t> bytes);
std::string to_hex(std::string_view text);
// Little-endian register bytes, `size` of them.
std::string le_hex(uint64_t value, unsigned size);
// Pairs of hex digits; false on an odd length or a non-hex digit.
bool from_hex(std::string_view hex, std::vector<uint8_t>& out);
// A hex number of at most 16 digits; false if empty, too long or not hex.
bool parse_hex(std::string_view text, uint64_t& value);
// The binary data of an X packet: "}x" stands for x ^ 0x20.
bool unescape(std::string_view data, std::vector<uint8_t>& out);

// A GDB thread id: -1 all threads, 0 any thread, else hart + 1.
using ThreadId = int64_t;
inline constexpr ThreadId kAllThreads = -1, kAnyThread = 0;

struct ResumeAction {
  char action = 'c';  // 'c' or 's' (signals are ignored: C and S act as c and s)
  ThreadId thread = kAllThreads;
};

struct Command {
  enum class Kind : uint8_t {
    kUnsupported,  // answered with an empty packet, as the protocol asks
    kMalformed,    // answered with an error
    kHaltReason,   // ?
    kReadRegisters,
    kWriteRegisters,
    kReadRegister,
    kWriteRegister,
    kReadMemory,
    kWriteMemory,  // M and X (data already decoded)
    kContinue,     // c [addr]
    kStep,         // s [addr]
    kResume,       // vCont;...
    kResumeQuery,  // vCont?
    kInsertPoint,  // Z type,addr,kind
    kRemovePoint,  // z type,addr,kind
    kSetThread,    // H op thread
    kThreadAlive,  // T thread
    kDetach,
    kKill,
    kQuery,       // q...: name holds what follows 'q' up to ':' and args the rest
    kSetting,     // Q...: as kQuery
    kStartNoAck,  // QStartNoAckMode
  };
  Kind kind = Kind::kUnsupported;
  uint64_t addr = 0;
  uint64_t length = 0;  // memory length; Z kind
  unsigned regno = 0;
  unsigned type = 0;    // Z type 0..4
  char op = 0;          // H's 'g' or 'c'
  ThreadId thread = 0;  // H, T
  std::optional<uint64_t> resume_at;
  std::vector<uint8_t> data;  // G, P, M, X
  std::vector<ResumeAction> actions;
  std::string name, args;  // q/Q
};

// One packet's payload (unescaped only where the protocol escapes: X's data) into a Command.
Command parse(std::string_view payload);

}  // namespace vessel::gdb
