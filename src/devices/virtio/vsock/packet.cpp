#include "devices/virtio/vsock/packet.hpp"

#include <cstring>

namespace vessel::virtio::vsock {

namespace {

// The header's fields are little-endian, as the host is (Vessel runs on little-endian hosts
// only: x86-64 and the like).
template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T>
void store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

// Offsets in struct virtio_vsock_hdr.
namespace hdr {
constexpr size_t kSrcCid = 0, kDstCid = 8, kSrcPort = 16, kDstPort = 20, kLen = 24, kType = 28,
                 kOp = 30, kFlags = 32, kBufAlloc = 36, kFwdCnt = 40;
}  // namespace hdr

}  // namespace

std::optional<Header> parse_header(const uint8_t* data, size_t size, std::string* why) {
  const auto refuse = [&](const char* reason) -> std::optional<Header> {
    if (why != nullptr) *why = reason;
    return std::nullopt;
  };
  if (data == nullptr || size < kHeaderSize) return refuse("shorter than a header");
  Header h;
  h.src_cid = load<uint64_t>(data + hdr::kSrcCid);
  h.dst_cid = load<uint64_t>(data + hdr::kDstCid);
  h.src_port = load<uint32_t>(data + hdr::kSrcPort);
  h.dst_port = load<uint32_t>(data + hdr::kDstPort);
  h.len = load<uint32_t>(data + hdr::kLen);
  h.type = load<uint16_t>(data + hdr::kType);
  const uint16_t op = load<uint16_t>(data + hdr::kOp);
  h.flags = load<uint32_t>(data + hdr::kFlags);
  h.buf_alloc = load<uint32_t>(data + hdr::kBufAlloc);
  h.fwd_cnt = load<uint32_t>(data + hdr::kFwdCnt);
  if (op == 0 || op > static_cast<uint16_t>(Op::kCreditRequest)) return refuse("unknown op");
  h.op = static_cast<Op>(op);
  if (h.len > kMaxPayload) return refuse("payload longer than 64 KiB");
  if (h.op != Op::kRw && h.len != 0) return refuse("payload on a control packet");
  return h;
}

void write_header(const Header& h, uint8_t out[kHeaderSize]) {
  store(out + hdr::kSrcCid, h.src_cid);
  store(out + hdr::kDstCid, h.dst_cid);
  store(out + hdr::kSrcPort, h.src_port);
  store(out + hdr::kDstPort, h.dst_port);
  store(out + hdr::kLen, h.len);
  store(out + hdr::kType, h.type);
  store(out + hdr::kOp, static_cast<uint16_t>(h.op));
  store(out + hdr::kFlags, h.flags);
  store(out + hdr::kBufAlloc, h.buf_alloc);
  store(out + hdr::kFwdCnt, h.fwd_cnt);
}

}  // namespace vessel::virtio::vsock
