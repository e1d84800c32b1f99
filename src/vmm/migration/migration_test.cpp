// The migration stream's format and its receiver: frames round trip, every refusal (another
// version, a flipped byte, pages out of bounds, frames out of order, a mismatched machine or
// ticket) is a one-line error, and a whole stream received gives the RAM and state sent.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "vmm/migration/channel.hpp"
#include "vmm/migration/receiver.hpp"
#include "vmm/migration/stream.hpp"
#include "vmm/snapshot/snapshot.hpp"

namespace vessel::migration {
namespace {

VirtConfig small_config() {
  VirtConfig c;
  c.ram_size = 16ULL << 20;  // 4096 pages, the board's least
  c.num_harts = 1;
  c.builtin_sbi = true;
  c.kernel = "/nonexistent/Image";
  c.rng = false;
  return c;
}

std::vector<uint8_t> hello_bytes(const VirtConfig& c, const std::string& ticket = {}) {
  return encode_hello({snapshot::vessel_version(), ticket, c});
}

std::vector<uint8_t> concat(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  std::vector<uint8_t> out(a.size() + b.size());
  std::memcpy(out.data(), a.data(), a.size());
  std::memcpy(out.data() + a.size(), b.data(), b.size());
  return out;
}

TEST(MigrationStream, PreambleChecksMagicAndVersions) {
  auto p = encode_preamble();
  EXPECT_TRUE(check_preamble(p).ok());
  auto other = p;
  other[8] = 99;  // another stream version
  auto r = check_preamble(other);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("migration stream version 99"), std::string::npos);
  other = p;
  other[12] ^= 0x40;  // another snapshot format
  EXPECT_FALSE(check_preamble(other).ok());
  other = p;
  other[0] = 'X';
  EXPECT_NE(check_preamble(other).error().message.find("not a Vessel migration stream"),
            std::string::npos);
  EXPECT_FALSE(check_preamble(std::span<const uint8_t>(p.data(), 10)).ok());
}

TEST(MigrationStream, FrameHeaderRoundTripsAndChecksumsCatchAFlip) {
  const std::vector<uint8_t> payload = {1, 2, 3, 4, 5};
  const auto h = encode_frame_header(FrameType::kState, {payload});
  auto d = decode_frame_header(h);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->type, FrameType::kState);
  EXPECT_EQ(d->length, payload.size());
  EXPECT_TRUE(check_payload(*d, payload).ok());
  auto flipped = payload;
  flipped[2] ^= 1;
  auto bad = check_payload(*d, flipped);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("fails its checksum"), std::string::npos);
  // A CRC over two parts is the CRC of their concatenation.
  const std::vector<uint8_t> a = {9, 8}, b = {7};
  const auto two = encode_frame_header(FrameType::kPages, {a, b});
  const auto one = encode_frame_header(FrameType::kPages, {concat(a, b)});
  EXPECT_EQ(two, one);
}

TEST(MigrationStream, UnknownTypesAndHugeLengthsAreRefused) {
  auto h = encode_frame_header(FrameType::kReady, {});
  h[0] = 77;
  EXPECT_NE(decode_frame_header(h).error().message.find("unknown frame type 77"),
            std::string::npos);
  h = encode_frame_header(FrameType::kReady, {});
  const uint64_t huge = uint64_t{1} << 40;
  std::memcpy(h.data() + 8, &huge, sizeof huge);
  EXPECT_FALSE(decode_frame_header(h).ok());
}

TEST(MigrationStream, HelloRoundTrips) {
  VirtConfig c = small_config();
  c.ram_size = 32ULL << 20;
  c.num_harts = 2;
  c.disks = {block::disk_of("/srv/disk.img")};
  c.disks[0].overlay = "/srv/o,1.qcow";  // a comma is a character like another
  auto h = decode_hello(hello_bytes(c, "t1"));
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->ticket, "t1");
  EXPECT_EQ(h->config.ram_size, 32ULL << 20);
  EXPECT_EQ(h->config.num_harts, 2U);
  EXPECT_EQ(h->config.disks, c.disks);
}

TEST(MigrationStream, HelloFromAnotherVesselIsRefused) {
  auto bytes = encode_hello({"0.0.0-other", "", small_config()});
  auto h = decode_hello(bytes);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().message.find("the source is Vessel 0.0.0-other"), std::string::npos);
  auto good = hello_bytes(small_config());
  good.push_back(0);
  EXPECT_NE(decode_hello(good).error().message.find("trailing"), std::string::npos);
  good.pop_back();
  good.resize(good.size() / 2);
  EXPECT_FALSE(decode_hello(good).ok());
}

TEST(MigrationStream, PageRunsAreBoundedByRamAndPayload) {
  const uint64_t pages = 4096;
  std::vector<uint8_t> payload(kPagesHeaderBytes + 2 * kPageSize);
  auto put = [&](uint64_t first, uint64_t count) {
    const auto h = encode_page_run({first, count});
    std::memcpy(payload.data(), h.data(), h.size());
  };
  put(10, 2);
  EXPECT_TRUE(decode_page_run(FrameType::kPages, payload, pages).ok());
  put(4095, 2);  // past the end
  EXPECT_FALSE(decode_page_run(FrameType::kPages, payload, pages).ok());
  put(~uint64_t{0}, 2);  // wraps
  EXPECT_FALSE(decode_page_run(FrameType::kPages, payload, pages).ok());
  put(10, 3);  // more pages than data
  EXPECT_FALSE(decode_page_run(FrameType::kPages, payload, pages).ok());
  put(10, 0);
  EXPECT_FALSE(decode_page_run(FrameType::kPages, payload, pages).ok());
  // ZERO_PAGES has no data, and may cover more than a PAGES frame.
  std::vector<uint8_t> zero(kPagesHeaderBytes);
  const auto h = encode_page_run({0, 256});
  std::memcpy(zero.data(), h.data(), h.size());
  EXPECT_TRUE(decode_page_run(FrameType::kZeroPages, zero, pages).ok());
  EXPECT_FALSE(decode_page_run(FrameType::kZeroPages, payload, pages).ok());
}

TEST(MigrationStream, ErrorTextIsOneLine) {
  EXPECT_EQ(decode_error(encode_error("bad\nthing\x01")), "bad thing ");
}

TEST(MigrationAddress, ParsesTheForms) {
  auto a = parse_address("tcp:127.0.0.1:4000");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 4000);
  a = parse_address("localhost:5");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->unix_socket);
  a = parse_address("[::1]:7");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::1");
  a = parse_address("unix:/tmp/x.sock");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->unix_socket);
  for (const char* bad : {"nothing", "host:", "host:70000", "host:12x", "unix:", ":5"}) {
    EXPECT_FALSE(parse_address(bad).ok()) << bad;
  }
}

// The receiver's state machine, fed frames as a channel would.
struct ReceiverTest : ::testing::Test {
  VirtConfig config = small_config();
  Receiver receiver{ReceiveOptions{}};

  Result<Receiver::Next> frame(FrameType t, const std::vector<uint8_t>& payload) {
    return receiver.on_frame(t, payload);
  }
  std::vector<uint8_t> pages(uint64_t first, uint64_t count, uint8_t fill) {
    const auto h = encode_page_run({first, count});
    std::vector<uint8_t> out(h.size() + count * kPageSize, fill);
    std::memcpy(out.data(), h.data(), h.size());
    return out;
  }
};

TEST_F(ReceiverTest, NothingBeforeHello) {
  auto r = frame(FrameType::kPages, pages(0, 1, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("unexpected PAGES frame"), std::string::npos);
}

TEST_F(ReceiverTest, PagesLandInRamAndZeroPagesClearThem) {
  ASSERT_EQ(*frame(FrameType::kHello, hello_bytes(config)), Receiver::Next::kHelloDone);
  ASSERT_TRUE(frame(FrameType::kPages, pages(3, 2, 0xab)).ok());
  ASSERT_TRUE(frame(FrameType::kPages, pages(4095, 1, 0xcd)).ok());
  const auto z = encode_page_run({4, 1});
  ASSERT_TRUE(frame(FrameType::kZeroPages, std::vector<uint8_t>(z.begin(), z.end())).ok());
  EXPECT_EQ(receiver.pages_received(), 4U);
  EXPECT_FALSE(frame(FrameType::kPages, pages(4096, 1, 1)).ok());    // past the RAM
  EXPECT_FALSE(frame(FrameType::kHello, hello_bytes(config)).ok());  // twice
  EXPECT_FALSE(frame(FrameType::kState, {1, 2, 3}).ok());            // not a state file
}

TEST_F(ReceiverTest, AMismatchedMachineOrTicketIsRefused) {
  Receiver want_mem(ReceiveOptions{{}, 32ULL << 20, std::nullopt, 0});
  auto r = want_mem.on_frame(FrameType::kHello, hello_bytes(config));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("--memory"), std::string::npos);
  Receiver want_cpus(ReceiveOptions{{}, std::nullopt, 4U, 0});
  EXPECT_NE(
      want_cpus.on_frame(FrameType::kHello, hello_bytes(config)).error().message.find("--cpus 4"),
      std::string::npos);
  Receiver ticket(ReceiveOptions{"secret", std::nullopt, std::nullopt, 0});
  EXPECT_FALSE(ticket.on_frame(FrameType::kHello, hello_bytes(config, "wrong")).ok());
  Receiver ticket_ok(ReceiveOptions{"secret", std::nullopt, std::nullopt, 0});
  EXPECT_TRUE(ticket_ok.on_frame(FrameType::kHello, hello_bytes(config, "secret")).ok());
  Receiver small(ReceiveOptions{{}, std::nullopt, std::nullopt, 4096});
  EXPECT_FALSE(small.on_frame(FrameType::kHello, hello_bytes(config)).ok());
}

// A whole stream (the fuzz corpus's seed from tests/fuzz/make_corpus.py: a HELLO, two pages
// of data, then every page zeroed, then a real snapshot state file as STATE), through the
// frame parser and the receiver.
TEST(MigrationReceive, AWholeStreamGivesASnapshotOnTheReceivedRam) {
  std::FILE* f = std::fopen(VESSEL_MIGRATION_STREAM, "rb");
  ASSERT_NE(f, nullptr);
  std::vector<uint8_t> bytes(1 << 20);
  bytes.resize(std::fread(bytes.data(), 1, bytes.size(), f));
  std::fclose(f);
  std::span<const uint8_t> in(bytes);
  ASSERT_TRUE(check_preamble(in).ok());
  in = in.subspan(kPreambleBytes);
  Receiver receiver{ReceiveOptions{}};
  std::vector<Receiver::Next> steps;
  while (!in.empty()) {
    auto h = decode_frame_header(in.first(kFrameHeaderBytes));
    ASSERT_TRUE(h.ok()) << h.error().message;
    const auto payload = in.subspan(kFrameHeaderBytes, h->length);
    ASSERT_TRUE(check_payload(*h, payload).ok());
    auto next = receiver.on_frame(h->type, payload);
    ASSERT_TRUE(next.ok()) << next.error().message;
    steps.push_back(*next);
    in = in.subspan(kFrameHeaderBytes + h->length);
  }
  ASSERT_EQ(steps.size(), 4U);
  EXPECT_EQ(steps.front(), Receiver::Next::kHelloDone);
  EXPECT_EQ(steps.back(), Receiver::Next::kStateDone);
  EXPECT_EQ(receiver.pages_received(), 2U + 4096U);
  snapshot::Loaded loaded = receiver.take_loaded();
  ASSERT_NE(loaded.ram, nullptr);
  EXPECT_EQ(loaded.ram->size(), loaded.config.ram_size);
  EXPECT_FALSE(loaded.machine_state.empty());
  // The ZERO_PAGES after the PAGES cleared them again.
  EXPECT_EQ(loaded.ram->data()[4096 + 5], 0);
}

}  // namespace
}  // namespace vessel::migration
