// libFuzzer target: bytes from a hostile GDB client through the stub's packet layer and its
// answers. The input is the byte stream a client sends (packets, acks, Ctrl-C, noise); each
// packet found is parsed and answered against a fake two-hart target, and every reply is
// framed. A crash, a sanitizer report or a reply longer than a packet may be is a bug.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "gdb/fake_target.hpp"
#include "gdb/packet.hpp"
#include "gdb/stub.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using vessel::gdb::PacketReader;
  vessel::gdb::FakeTarget target(2);
  vessel::gdb::Stub stub(target);
  PacketReader reader;
  std::vector<PacketReader::Item> items;
  reader.feed(std::string_view(reinterpret_cast<const char*>(data), size), items);
  for (const PacketReader::Item& item : items) {
    if (item.kind != PacketReader::Item::Kind::kPacket) continue;
    if (item.payload.size() > vessel::gdb::kMaxPacket) std::abort();
    const vessel::gdb::Outcome o = stub.handle(vessel::gdb::parse(item.payload));
    // Replies fit the packet size advertised (escaping may double it on the wire).
    if (o.reply.size() > vessel::gdb::kMaxPacket) std::abort();
    (void)vessel::gdb::frame(o.reply);
  }
  return 0;
}
