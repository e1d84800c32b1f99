#include "gdb/stub.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "gdb/registers.hpp"

namespace vessel::gdb {

namespace {

using Action = rv::DebugControl::Action;
using Kind = Command::Kind;

// Error replies: errno values, as gdbserver uses them.
constexpr const char* kErrInvalid = "E16";  // EINVAL (0x16): a malformed or impossible request
constexpr const char* kErrFault = "E0e";    // EFAULT: memory that does not map

Outcome reply(std::string text, Outcome::Then then = Outcome::Then::kReply) {
  Outcome o;
  o.then = then;
  o.reply = std::move(text);
  return o;
}

uint64_t le_value(const std::vector<uint8_t>& bytes, size_t at, size_t size) {
  uint64_t v = 0;
  for (size_t i = 0; i < size && at + i < bytes.size(); ++i) {
    v |= static_cast<uint64_t>(bytes[at + i]) << (8 * i);
  }
  return v;
}

}  // namespace

std::string Stub::stopped(const StopInfo& stop) {
  current_ = stop.hart;
  std::string r = fmt::format("T{:02x}", stop.signal);
  if (stop.signal == 5) {
    switch (stop.why) {
      case rv::DebugControl::Why::kWatchWrite:
        r += fmt::format("watch:{:x};", stop.watch_addr);
        break;
      case rv::DebugControl::Why::kWatchRead:
        r += fmt::format("rwatch:{:x};", stop.watch_addr);
        break;
      case rv::DebugControl::Why::kWatchAccess:
        r += fmt::format("awatch:{:x};", stop.watch_addr);
        break;
      case rv::DebugControl::Why::kBreakpoint:  // GDB finds its breakpoint at pc itself
      case rv::DebugControl::Why::kStep: break;
    }
  }
  r += fmt::format("thread:{:x};", stop.hart + 1);
  last_stop_ = r;
  return r;
}

Outcome Stub::handle(const Command& c) {
  switch (c.kind) {
    case Kind::kUnsupported: return reply("");
    case Kind::kMalformed: return reply(kErrInvalid);
    case Kind::kHaltReason:
      return reply(last_stop_.empty() ? fmt::format("T05thread:{:x};", current_ + 1) : last_stop_);
    case Kind::kReadRegisters:
    case Kind::kWriteRegisters:
    case Kind::kReadRegister:
    case Kind::kWriteRegister: return registers(c);
    case Kind::kReadMemory:
    case Kind::kWriteMemory: return memory(c);
    case Kind::kInsertPoint:
    case Kind::kRemovePoint: return point(c);
    case Kind::kContinue:
    case Kind::kStep:
    case Kind::kResume: return resume(c);
    case Kind::kResumeQuery: return reply("vCont;c;C;s;S");
    case Kind::kSetThread: return set_thread(c);
    case Kind::kThreadAlive: return reply(valid_thread(c.thread) ? "OK" : kErrInvalid);
    case Kind::kDetach: return reply("OK", Outcome::Then::kDetach);
    case Kind::kKill: return reply(c.name == "vKill" ? "OK" : "", Outcome::Then::kKill);
    case Kind::kStartNoAck: no_ack_ = true; return reply("OK");
    case Kind::kQuery:
    case Kind::kSetting: return query(c);
  }
  return reply("");
}

Outcome Stub::query(const Command& c) {
  if (c.kind == Kind::kSetting) return reply("");  // QNonStop, QPassSignals, ...: not supported
  const std::string& n = c.name;
  if (n == "Supported") {
    return reply(fmt::format(
        "PacketSize={:x};qXfer:features:read+;vContSupported+;QStartNoAckMode+", kMaxPacket));
  }
  if (n == "Xfer") return reply(read_features(c.args));
  if (n == "fThreadInfo") {
    std::string r = "m";
    for (unsigned i = 0; i < target_.num_harts(); ++i) {
      r += fmt::format("{}{:x}", i == 0 ? "" : ",", i + 1);
    }
    return reply(r);
  }
  if (n == "sThreadInfo") return reply("l");
  if (n == "C") return reply(fmt::format("QC{:x}", current_ + 1));
  if (n == "Attached") return reply("1");
  if (n == "Symbol") return reply("OK");
  if (n == "ThreadExtraInfo") {
    uint64_t t = 0;
    if (!parse_hex(c.args, t) || !valid_thread(static_cast<ThreadId>(t)) || t == 0) {
      return reply(kErrInvalid);
    }
    return reply(to_hex(fmt::format("hart {}", t - 1)));
  }
  return reply("");
}

// qXfer:features:read:ANNEX:OFFSET,LENGTH
std::string Stub::read_features(const std::string& args) const {
  constexpr std::string_view kPrefix = "features:read:target.xml:";
  if (!std::string_view(args).starts_with(kPrefix)) return "";
  uint64_t offset = 0, length = 0;
  const std::string_view range = std::string_view(args).substr(kPrefix.size());
  const size_t comma = range.find(',');
  if (comma == std::string_view::npos || !parse_hex(range.substr(0, comma), offset) ||
      !parse_hex(range.substr(comma + 1), length)) {
    return kErrInvalid;
  }
  const std::string& xml = target_xml();
  if (offset >= xml.size()) return "l";
  // The reply is escaped by frame(): leave room for that, too.
  length = std::min<uint64_t>(length, kMaxPacket / 2);
  const std::string part = xml.substr(offset, length);
  return (offset + part.size() >= xml.size() ? "l" : "m") + part;
}

Outcome Stub::registers(const Command& c) {
  uint64_t v = 0;
  switch (c.kind) {
    case Kind::kReadRegisters: {
      std::string r;
      for (unsigned i = 0; i < kGRegisters; ++i) {
        if (!target_.read_register(current_, i, v)) v = 0;
        r += le_hex(v, 8);
      }
      return reply(r);
    }
    case Kind::kWriteRegisters:
      if (c.data.size() % 8 != 0 || c.data.size() > kGRegisters * 8) return reply(kErrInvalid);
      for (unsigned i = 0; i < c.data.size() / 8; ++i) {
        if (!target_.write_register(current_, i, le_value(c.data, i * 8, 8))) {
          return reply(kErrInvalid);
        }
      }
      return reply("OK");
    case Kind::kReadRegister:
      if (!target_.read_register(current_, c.regno, v)) return reply(kErrInvalid);
      return reply(le_hex(v, register_size(c.regno)));
    default:
      if (c.data.size() != register_size(c.regno) ||
          !target_.write_register(current_, c.regno, le_value(c.data, 0, c.data.size()))) {
        return reply(kErrInvalid);
      }
      return reply("OK");
  }
}

Outcome Stub::memory(const Command& c) {
  if (c.kind == Kind::kReadMemory) {
    // A longer read is answered in part; GDB asks again for the rest.
    std::vector<uint8_t> bytes(std::min<uint64_t>(c.length, kMaxMemoryRead));
    const size_t done = target_.read_memory(current_, c.addr, bytes);
    if (done == 0 && !bytes.empty()) return reply(kErrFault);
    return reply(to_hex(std::span(bytes.data(), done)));
  }
  if (c.data.empty()) return reply("OK");  // GDB probes X with an empty write
  const size_t done = target_.write_memory(current_, c.addr, c.data);
  return reply(done == c.data.size() ? "OK" : kErrFault);
}

Outcome Stub::point(const Command& c) {
  const bool insert = c.kind == Kind::kInsertPoint;
  bool ok = false;
  if (c.type <= 1) {
    ok = target_.set_breakpoint(c.addr, insert);
  } else {
    ok = target_.set_watchpoint(static_cast<rv::DebugControl::WatchKind>(c.type), c.addr, c.length,
                                insert);
  }
  return reply(ok ? "OK" : kErrInvalid);
}

Outcome Stub::resume(const Command& c) {
  Outcome o = reply("", Outcome::Then::kResume);
  const unsigned n = target_.num_harts();
  if (c.kind != Kind::kResume) {  // c and s: the current hart steps; c runs them all
    if (c.resume_at && !target_.write_register(current_, kRegPc, *c.resume_at)) {
      return reply(kErrInvalid);
    }
    o.actions.assign(n, c.kind == Kind::kStep ? Action::kHalt : Action::kRun);
    if (c.kind == Kind::kStep) o.actions[current_] = Action::kStep;
    return o;
  }
  // vCont: each hart takes the first action that names it (or names all). A step runs its
  // hart alone, the others staying halted, so that a step is exactly one instruction of it.
  o.actions.assign(n, Action::kHalt);
  std::vector<bool> taken(n, false);
  for (const ResumeAction& a : c.actions) {
    if (!valid_thread(a.thread)) return reply(kErrInvalid);
    for (unsigned h = 0; h < n; ++h) {
      const bool named = a.thread <= 0 || static_cast<uint64_t>(a.thread) == h + 1;
      if (!named || taken[h]) continue;
      taken[h] = true;
      o.actions[h] = a.action == 's' ? Action::kStep : Action::kRun;
    }
  }
  if (std::find(o.actions.begin(), o.actions.end(), Action::kStep) != o.actions.end()) {
    for (Action& a : o.actions) {
      if (a == Action::kRun) a = Action::kHalt;
    }
  }
  return o;
}

Outcome Stub::set_thread(const Command& c) {
  if (!valid_thread(c.thread)) return reply(kErrInvalid);
  if (c.thread > 0) current_ = static_cast<unsigned>(c.thread - 1);
  return reply("OK");
}

}  // namespace vessel::gdb
