#include "gdb/packet.hpp"

#include <gtest/gtest.h>

namespace vessel::gdb {
namespace {

using Kind = PacketReader::Item::Kind;

std::vector<PacketReader::Item> feed(std::string_view bytes) {
  PacketReader r;
  std::vector<PacketReader::Item> items;
  r.feed(bytes, items);
  return items;
}

TEST(GdbPacket, FrameComputesTheChecksumAndEscapes) {
  EXPECT_EQ(frame("OK"), "$OK#9a");
  EXPECT_EQ(frame(""), "$#00");
  // '#' (0x23) goes as '}' 0x03.
  EXPECT_EQ(frame("a#"), "$a}\x03#e1");
}

TEST(GdbPacket, ReaderYieldsPacketsAcksAndInterrupts) {
  const auto items = feed("+$g#67-\x03$?#3f");
  ASSERT_EQ(items.size(), 5U);
  EXPECT_EQ(items[0].kind, Kind::kAck);
  EXPECT_EQ(items[1].kind, Kind::kPacket);
  EXPECT_EQ(items[1].payload, "g");
  EXPECT_EQ(items[2].kind, Kind::kNack);
  EXPECT_EQ(items[3].kind, Kind::kInterrupt);
  EXPECT_EQ(items[4].payload, "?");
}

TEST(GdbPacket, ReaderFindsPacketsSplitAcrossReads) {
  PacketReader r;
  std::vector<PacketReader::Item> items;
  r.feed("$qSupp", items);
  EXPECT_TRUE(items.empty());
  r.feed("orted#37", items);
  ASSERT_EQ(items.size(), 1U);
  EXPECT_EQ(items[0].payload, "qSupported");
}

TEST(GdbPacket, BadChecksumAndNonHexChecksumAreRefused) {
  EXPECT_EQ(feed("$g#00").at(0).kind, Kind::kBadChecksum);
  EXPECT_EQ(feed("$g#zz").at(0).kind, Kind::kBadChecksum);
}

TEST(GdbPacket, AnOverlongPacketIsDroppedWithoutGrowing) {
  std::string huge = "$" + std::string(kMaxPacket * 4, 'm') + "#00";
  const auto items = feed(huge);
  ASSERT_EQ(items.size(), 1U);
  EXPECT_EQ(items[0].kind, Kind::kTooLong);
}

TEST(GdbPacket, HexHelpers) {
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(from_hex("00ff7A", bytes));
  EXPECT_EQ(bytes, (std::vector<uint8_t>{0, 0xff, 0x7a}));
  EXPECT_FALSE(from_hex("abc", bytes));
  EXPECT_FALSE(from_hex("zz", bytes));
  EXPECT_EQ(to_hex(std::string_view("OK")), "4f4b");
  EXPECT_EQ(le_hex(0x1122334455667788ULL, 8), "8877665544332211");
  EXPECT_EQ(le_hex(0x1f, 4), "1f000000");
  uint64_t v = 0;
  EXPECT_TRUE(parse_hex("80200000", v));
  EXPECT_EQ(v, 0x80200000U);
  EXPECT_FALSE(parse_hex("", v));
  EXPECT_FALSE(parse_hex("-1", v));
  EXPECT_FALSE(parse_hex("12345678123456781", v));  // 17 digits
  EXPECT_TRUE(unescape("a}\x03", bytes));
  EXPECT_EQ(bytes, (std::vector<uint8_t>{'a', '#'}));
  EXPECT_FALSE(unescape("a}", bytes));
}

TEST(GdbPacket, ParsesMemoryRegisterAndPointPackets) {
  Command c = parse("m80000000,10");
  EXPECT_EQ(c.kind, Command::Kind::kReadMemory);
  EXPECT_EQ(c.addr, 0x80000000U);
  EXPECT_EQ(c.length, 0x10U);
  c = parse("M1000,2:abcd");
  EXPECT_EQ(c.kind, Command::Kind::kWriteMemory);
  EXPECT_EQ(c.data, (std::vector<uint8_t>{0xab, 0xcd}));
  EXPECT_EQ(parse("M1000,3:abcd").kind, Command::Kind::kMalformed);  // length mismatch
  c = parse("X1000,1:}\x03");
  EXPECT_EQ(c.data, (std::vector<uint8_t>{'#'}));
  c = parse("P20=0010200000000000");
  EXPECT_EQ(c.kind, Command::Kind::kWriteRegister);
  EXPECT_EQ(c.regno, 0x20U);
  EXPECT_EQ(c.data.size(), 8U);
  EXPECT_EQ(parse("P20=00112233445566778899").kind, Command::Kind::kMalformed);
  c = parse("Z0,80200000,2");
  EXPECT_EQ(c.kind, Command::Kind::kInsertPoint);
  EXPECT_EQ(c.type, 0U);
  EXPECT_EQ(c.addr, 0x80200000U);
  EXPECT_EQ(parse("z2,1000,8").type, 2U);
  EXPECT_EQ(parse("Z9,1000,8").kind, Command::Kind::kMalformed);
  EXPECT_EQ(parse("m,").kind, Command::Kind::kMalformed);
  EXPECT_EQ(parse("mffffffffffffffffff,1").kind, Command::Kind::kMalformed);
}

TEST(GdbPacket, ParsesResumeAndThreadPackets) {
  Command c = parse("vCont;s:2;c");
  ASSERT_EQ(c.kind, Command::Kind::kResume);
  ASSERT_EQ(c.actions.size(), 2U);
  EXPECT_EQ(c.actions[0].action, 's');
  EXPECT_EQ(c.actions[0].thread, 2);
  EXPECT_EQ(c.actions[1].thread, kAllThreads);
  EXPECT_EQ(parse("vCont;C02:1").actions.at(0).action, 'c');
  EXPECT_EQ(parse("vCont?").kind, Command::Kind::kResumeQuery);
  EXPECT_EQ(parse("vCont;x").kind, Command::Kind::kMalformed);
  EXPECT_EQ(parse("vCont;").kind, Command::Kind::kMalformed);
  c = parse("c80200000");
  EXPECT_EQ(c.kind, Command::Kind::kContinue);
  EXPECT_EQ(c.resume_at, 0x80200000U);
  c = parse("Hg-1");
  EXPECT_EQ(c.kind, Command::Kind::kSetThread);
  EXPECT_EQ(c.thread, kAllThreads);
  EXPECT_EQ(parse("Hx1").kind, Command::Kind::kMalformed);
  c = parse("qXfer:features:read:target.xml:0,ffb");
  EXPECT_EQ(c.name, "Xfer");
  EXPECT_EQ(c.args, "features:read:target.xml:0,ffb");
  c = parse("qThreadExtraInfo,2");
  EXPECT_EQ(c.name, "ThreadExtraInfo");
  EXPECT_EQ(c.args, "2");
  EXPECT_EQ(parse("QStartNoAckMode").kind, Command::Kind::kStartNoAck);
  EXPECT_EQ(parse("vMustReplyEmpty").kind, Command::Kind::kUnsupported);
  EXPECT_EQ(parse("").kind, Command::Kind::kUnsupported);
}

}  // namespace
}  // namespace vessel::gdb
