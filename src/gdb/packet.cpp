#include "gdb/packet.hpp"

#include <fmt/format.h>

#include <charconv>

namespace vessel::gdb {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits `text` at the first `sep`: false when there is none.
bool split(std::string_view text, char sep, std::string_view& head, std::string_view& tail) {
  const size_t at = text.find(sep);
  if (at == std::string_view::npos) return false;
  head = text.substr(0, at);
  tail = text.substr(at + 1);
  return true;
}

bool parse_thread(std::string_view text, ThreadId& id) {
  if (text == "-1") {
    id = kAllThreads;
    return true;
  }
  uint64_t v = 0;
  if (!parse_hex(text, v) || v > 0xffffffff) return false;
  id = static_cast<ThreadId>(v);
  return true;
}

Command of(Command::Kind kind) {
  Command c;
  c.kind = kind;
  return c;
}

Command malformed() { return of(Command::Kind::kMalformed); }

// "addr,length" (m, M, X) and "type,addr,kind" (Z, z).
bool parse_addr_length(std::string_view text, uint64_t& addr, uint64_t& length) {
  std::string_view a, l;
  return split(text, ',', a, l) && parse_hex(a, addr) && parse_hex(l, length);
}

Command parse_memory(char letter, std::string_view body) {
  Command c;
  if (letter == 'm') {
    c.kind = Command::Kind::kReadMemory;
    return parse_addr_length(body, c.addr, c.length) ? c : malformed();
  }
  std::string_view range, data;
  if (!split(body, ':', range, data) || !parse_addr_length(range, c.addr, c.length)) {
    return malformed();
  }
  c.kind = Command::Kind::kWriteMemory;
  const bool ok = letter == 'M' ? from_hex(data, c.data) : unescape(data, c.data);
  return ok && c.data.size() == c.length ? c : malformed();
}

Command parse_point(char letter, std::string_view body) {
  Command c;
  c.kind = letter == 'Z' ? Command::Kind::kInsertPoint : Command::Kind::kRemovePoint;
  std::string_view type, rest, addr, kind;
  if (!split(body, ',', type, rest) || type.size() != 1 || type[0] < '0' || type[0] > '4') {
    return malformed();
  }
  if (!split(rest, ',', addr, kind)) return malformed();
  kind = kind.substr(0, kind.find(';'));  // conditions and commands are not supported
  c.type = static_cast<unsigned>(type[0] - '0');
  return parse_hex(addr, c.addr) && parse_hex(kind, c.length) ? c : malformed();
}

Command parse_register(char letter, std::string_view body) {
  Command c;
  uint64_t regno = 0;
  std::string_view number = body, value;
  if (letter == 'P') {
    if (!split(body, '=', number, value) || !from_hex(value, c.data) || c.data.empty() ||
        c.data.size() > 8) {
      return malformed();
    }
  }
  if (!parse_hex(number, regno) || regno > 0xffff) return malformed();
  c.kind = letter == 'p' ? Command::Kind::kReadRegister : Command::Kind::kWriteRegister;
  c.regno = static_cast<unsigned>(regno);
  return c;
}

Command parse_resume(char letter, std::string_view body) {
  Command c;
  c.kind = letter == 'c' || letter == 'C' ? Command::Kind::kContinue : Command::Kind::kStep;
  if (letter == 'C' || letter == 'S') {  // a signal number, then ;addr
    const size_t semi = body.find(';');
    body = semi == std::string_view::npos ? std::string_view{} : body.substr(semi + 1);
  }
  if (!body.empty()) {
    uint64_t at = 0;
    if (!parse_hex(body, at)) return malformed();
    c.resume_at = at;
  }
  return c;
}

// vCont;action[:thread];action[:thread]...
Command parse_vcont(std::string_view body) {
  Command c;
  if (body == "?") return of(Command::Kind::kResumeQuery);
  if (body.empty() || body[0] != ';') return malformed();
  c.kind = Command::Kind::kResume;
  body.remove_prefix(1);
  while (!body.empty()) {
    std::string_view item = body.substr(0, body.find(';'));
    body.remove_prefix(std::min(body.size(), item.size() + 1));
    if (item.empty() || c.actions.size() >= 64) return malformed();
    ResumeAction a;
    const char kind = item[0];
    if (kind != 'c' && kind != 's' && kind != 'C' && kind != 'S') return malformed();
    a.action = kind == 'C' ? 'c' : kind == 'S' ? 's' : kind;
    item.remove_prefix(1);
    if (kind == 'C' || kind == 'S') item = item.substr(std::min(item.size(), size_t{2}));
    if (!item.empty()) {
      if (item[0] != ':' || !parse_thread(item.substr(1), a.thread)) return malformed();
    }
    c.actions.push_back(a);
  }
  return c.actions.empty() ? malformed() : c;
}

Command parse_query(char letter, std::string_view body) {
  Command c;
  c.kind = letter == 'q' ? Command::Kind::kQuery : Command::Kind::kSetting;
  if (body == "StartNoAckMode" && letter == 'Q') return of(Command::Kind::kStartNoAck);
  std::string_view name = body, args;
  if (split(body, ':', name, args)) c.args = std::string(args);
  // qThreadExtraInfo,id and similar put a comma where others put a colon.
  if (const size_t comma = name.find(','); comma != std::string_view::npos) {
    c.args = std::string(name.substr(comma + 1));
    name = name.substr(0, comma);
  }
  c.name = std::string(name);
  return c;
}

Command parse_thread_command(char letter, std::string_view body) {
  Command c;
  if (letter == 'H') {
    if (body.empty() || (body[0] != 'g' && body[0] != 'c')) return malformed();
    c.kind = Command::Kind::kSetThread;
    c.op = body[0];
    body.remove_prefix(1);
  } else {
    c.kind = Command::Kind::kThreadAlive;
  }
  return parse_thread(body, c.thread) ? c : malformed();
}

}  // namespace

void PacketReader::feed(std::string_view bytes, std::vector<Item>& out) {
  for (const char c : bytes) {
    const auto byte = static_cast<uint8_t>(c);
    switch (state_) {
      case State::kIdle:
        if (c == '$') {
          state_ = State::kBody;
          body_.clear();
          too_long_ = false;
          sum_ = 0;
        } else if (byte == 0x03) {
          out.push_back({Item::Kind::kInterrupt, {}});
        } else if (c == '+') {
          out.push_back({Item::Kind::kAck, {}});
        } else if (c == '-') {
          out.push_back({Item::Kind::kNack, {}});
        }  // anything else between packets is line noise
        break;
      case State::kBody:
        if (c == '#') {
          state_ = State::kCheck1;
          break;
        }
        sum_ = static_cast<uint8_t>(sum_ + byte);
        if (body_.size() < kMaxPacket) {
          body_.push_back(c);
        } else {
          too_long_ = true;
        }
        break;
      case State::kCheck1:
      case State::kCheck2: {
        const int digit = hex_digit(c);
        check_ = static_cast<uint8_t>((check_ << 4) | (digit < 0 ? 0 : digit));
        if (state_ == State::kCheck1 && digit >= 0) {
          state_ = State::kCheck2;
          break;
        }
        state_ = State::kIdle;
        if (too_long_) {
          out.push_back({Item::Kind::kTooLong, {}});
        } else if (digit < 0 || check_ != sum_) {
          out.push_back({Item::Kind::kBadChecksum, {}});
        } else {
          out.push_back({Item::Kind::kPacket, std::move(body_)});
        }
        body_.clear();
        check_ = 0;
        break;
      }
    }
  }
}

std::string frame(std::string_view payload) {
  std::string out = "$";
  uint8_t sum = 0;
  for (const char c : payload) {
    if (c == '$' || c == '#' || c == '}' || c == '*') {
      out.push_back('}');
      sum = static_cast<uint8_t>(sum + '}');
      const char escaped = static_cast<char>(c ^ 0x20);
      out.push_back(escaped);
      sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(escaped));
    } else {
      out.push_back(c);
      sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
    }
  }
  return out + fmt::format("#{:02x}", sum);
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::string to_hex(std::string_view text) {
  return to_hex(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::string le_hex(uint64_t value, unsigned size) {
  uint8_t bytes[8] = {};
  for (unsigned i = 0; i < size && i < 8; ++i) bytes[i] = static_cast<uint8_t>(value >> (8 * i));
  return to_hex(std::span(bytes, std::min(size, 8U)));
}

bool from_hex(std::string_view hex, std::vector<uint8_t>& out) {
  if (hex.size() % 2 != 0) return false;
  out.clear();
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return true;
}

bool parse_hex(std::string_view text, uint64_t& value) {
  if (text.empty() || text.size() > 16) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  return ec == std::errc() && end == text.data() + text.size();
}

bool unescape(std::string_view data, std::vector<uint8_t>& out) {
  out.clear();
  out.reserve(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] != '}') {
      out.push_back(static_cast<uint8_t>(data[i]));
      continue;
    }
    if (++i == data.size()) return false;
    out.push_back(static_cast<uint8_t>(data[i] ^ 0x20));
  }
  return true;
}

Command parse(std::string_view payload) {
  if (payload.empty()) return Command{};
  const char letter = payload[0];
  const std::string_view body = payload.substr(1);
  switch (letter) {
    case '?': return of(Command::Kind::kHaltReason);
    case 'g': return body.empty() ? of(Command::Kind::kReadRegisters) : malformed();
    case 'G': {
      Command c = of(Command::Kind::kWriteRegisters);
      return from_hex(body, c.data) ? c : malformed();
    }
    case 'p':
    case 'P': return parse_register(letter, body);
    case 'm':
    case 'M':
    case 'X': return parse_memory(letter, body);
    case 'c':
    case 'C':
    case 's':
    case 'S': return parse_resume(letter, body);
    case 'Z':
    case 'z': return parse_point(letter, body);
    case 'H':
    case 'T': return parse_thread_command(letter, body);
    case 'D': return of(Command::Kind::kDetach);
    case 'k': return of(Command::Kind::kKill);
    case 'q':
    case 'Q': return parse_query(letter, body);
    case 'v':
      if (body.starts_with("Cont")) return parse_vcont(body.substr(4));
      if (body.starts_with("Kill")) {  // answered OK, unlike k
        Command c = of(Command::Kind::kKill);
        c.name = "vKill";
        return c;
      }
      return Command{};
    default: return Command{};
  }
}

}  // namespace vessel::gdb
