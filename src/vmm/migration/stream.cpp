#include "vmm/migration/stream.hpp"

#include <fmt/format.h>

#include <cstring>

#include "base/state.hpp"
#include "vmm/snapshot/snapshot.hpp"
#include "vmm/snapshot/snapshot_codec.hpp"
#include "vmm/snapshot/snapshot_file.hpp"

namespace vessel::migration {

namespace {

constexpr std::string_view kHelloTag = "hello/1";
// A ticket is a few dozen characters; a Vessel version a few.
constexpr size_t kMaxTicket = 256;
constexpr size_t kMaxVersion = 64;
constexpr size_t kMaxErrorText = 4096;

template <typename T>
void put(uint8_t* at, T v) {
  std::memcpy(at, &v, sizeof v);
}
template <typename T>
T get(const uint8_t* at) {
  T v;
  std::memcpy(&v, at, sizeof v);
  return v;
}

bool known(uint32_t type) {
  switch (static_cast<FrameType>(type)) {
    case FrameType::kHello:
    case FrameType::kPages:
    case FrameType::kZeroPages:
    case FrameType::kState:
    case FrameType::kReady:
    case FrameType::kRunning:
    case FrameType::kError: return true;
  }
  return false;
}

}  // namespace

size_t max_payload() {
  return std::max<size_t>(snapshot::kMaxStateFile,
                          kPagesHeaderBytes + kMaxPagesPerFrame * kPageSize);
}

const char* frame_name(FrameType type) {
  switch (type) {
    case FrameType::kHello: return "HELLO";
    case FrameType::kPages: return "PAGES";
    case FrameType::kZeroPages: return "ZERO_PAGES";
    case FrameType::kState: return "STATE";
    case FrameType::kReady: return "READY";
    case FrameType::kRunning: return "RUNNING";
    case FrameType::kError: return "ERROR";
  }
  return "?";
}

std::array<uint8_t, kPreambleBytes> encode_preamble() {
  std::array<uint8_t, kPreambleBytes> out{};
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  put<uint32_t>(out.data() + 8, kStreamVersion);
  put<uint32_t>(out.data() + 12, snapshot::kFormatVersion);
  return out;
}

Result<void> check_preamble(std::span<const uint8_t> bytes) {
  if (bytes.size() < kPreambleBytes || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return make_error("not a Vessel migration stream (no VESSELMG header)");
  }
  const auto version = get<uint32_t>(bytes.data() + 8);
  if (version != kStreamVersion) {
    return make_error(fmt::format("migration stream version {}, this Vessel reads version {}",
                                  version, kStreamVersion));
  }
  const auto state_version = get<uint32_t>(bytes.data() + 12);
  if (state_version != snapshot::kFormatVersion) {
    return make_error(fmt::format("migration stream with snapshot format {}, this Vessel reads {}",
                                  state_version, snapshot::kFormatVersion));
  }
  return {};
}

std::array<uint8_t, kFrameHeaderBytes> encode_frame_header(
    FrameType type, std::initializer_list<std::span<const uint8_t>> parts) {
  uint32_t crc = 0;
  uint64_t length = 0;
  for (auto part : parts) {
    crc = snapshot::crc32_of(part.data(), part.size(), crc);
    length += part.size();
  }
  std::array<uint8_t, kFrameHeaderBytes> out{};
  put<uint32_t>(out.data(), static_cast<uint32_t>(type));
  put<uint32_t>(out.data() + 4, crc);
  put<uint64_t>(out.data() + 8, length);
  return out;
}

Result<FrameHeader> decode_frame_header(std::span<const uint8_t> bytes) {
  if (bytes.size() < kFrameHeaderBytes) return make_error("migration stream: truncated frame");
  const auto type = get<uint32_t>(bytes.data());
  if (!known(type)) return make_error(fmt::format("migration stream: unknown frame type {}", type));
  FrameHeader h{static_cast<FrameType>(type), get<uint32_t>(bytes.data() + 4),
                get<uint64_t>(bytes.data() + 8)};
  if (h.length > max_payload()) {
    return make_error(fmt::format("migration stream: {} frame of {} bytes (at most {})",
                                  frame_name(h.type), h.length, max_payload()));
  }
  return h;
}

Result<void> check_payload(const FrameHeader& header, std::span<const uint8_t> payload) {
  if (payload.size() != header.length ||
      snapshot::crc32_of(payload.data(), payload.size()) != header.crc) {
    return make_error(fmt::format("migration stream is corrupt: a {} frame fails its checksum",
                                  frame_name(header.type)));
  }
  return {};
}

std::vector<uint8_t> encode_hello(const Hello& hello) {
  StateWriter out;
  out.begin(kHelloTag);
  out.put_bytes(hello.vessel_version.data(), hello.vessel_version.size());
  out.put_bytes(hello.ticket.data(), hello.ticket.size());
  snapshot::encode_config(out, hello.config);
  return out.bytes();
}

Result<Hello> decode_hello(std::span<const uint8_t> payload) {
  StateReader in(payload.data(), payload.size());
  TRY_VOID(in.expect(kHelloTag));
  Hello hello;
  const auto version = TRY(in.get_bytes(kMaxVersion));
  hello.vessel_version.assign(version.begin(), version.end());
  if (hello.vessel_version != snapshot::vessel_version()) {
    return make_error(fmt::format("the source is Vessel {}, this is Vessel {}",
                                  hello.vessel_version, snapshot::vessel_version()));
  }
  const auto ticket = TRY(in.get_bytes(kMaxTicket));
  hello.ticket.assign(ticket.begin(), ticket.end());
  auto config = snapshot::decode_config(in);
  if (!config) return make_error(fmt::format("migration HELLO: {}", config.error().message));
  hello.config = std::move(*config);
  if (!in.at_end()) return make_error("migration HELLO has trailing bytes");
  return hello;
}

std::array<uint8_t, kPagesHeaderBytes> encode_page_run(PageRun run) {
  std::array<uint8_t, kPagesHeaderBytes> out{};
  put<uint64_t>(out.data(), run.first);
  put<uint64_t>(out.data() + 8, run.count);
  return out;
}

Result<PageRun> decode_page_run(FrameType type, std::span<const uint8_t> payload,
                                uint64_t ram_pages) {
  if (payload.size() < kPagesHeaderBytes) {
    return make_error(fmt::format("migration stream: short {} frame", frame_name(type)));
  }
  const PageRun run{get<uint64_t>(payload.data()), get<uint64_t>(payload.data() + 8)};
  if (run.count == 0 || run.first >= ram_pages || run.count > ram_pages - run.first) {
    return make_error(fmt::format("migration stream: pages {}+{} are outside the guest's {} pages",
                                  run.first, run.count, ram_pages));
  }
  const uint64_t data = payload.size() - kPagesHeaderBytes;
  const bool fits = type == FrameType::kPages
                        ? run.count <= kMaxPagesPerFrame && data == run.count * kPageSize
                        : data == 0;
  if (!fits) {
    return make_error(fmt::format("migration stream: a {} frame of {} pages has {} bytes of data",
                                  frame_name(type), run.count, data));
  }
  return run;
}

std::vector<uint8_t> encode_error(const std::string& message) {
  const size_t n = std::min(message.size(), kMaxErrorText);
  return std::vector<uint8_t>(message.begin(), message.begin() + static_cast<ptrdiff_t>(n));
}

std::string decode_error(std::span<const uint8_t> payload) {
  std::string text(payload.begin(), payload.begin() + static_cast<ptrdiff_t>(
                                                          std::min(payload.size(), kMaxErrorText)));
  // One line of printable text, whatever the peer sent.
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) == 0x7f) c = ' ';
  }
  return text;
}

}  // namespace vessel::migration
