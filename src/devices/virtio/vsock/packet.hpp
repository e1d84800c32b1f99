// The virtio-vsock packet header (virtio 1.2, "Socket Device", struct virtio_vsock_hdr): 44
// little-endian bytes in front of every packet on rx and tx. The guest writes the ones on tx,
// so parse_header checks everything Vessel relies on before a packet is looked at further.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace vessel::virtio::vsock {

inline constexpr size_t kHeaderSize = 44;
inline constexpr uint64_t kHostCid = 2;  // VMADDR_CID_HOST
inline constexpr uint16_t kTypeStream = 1;
// The largest payload one packet carries either way (Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE).
inline constexpr uint32_t kMaxPayload = 64 * 1024;

enum class Op : uint16_t {
  kInvalid = 0,
  kRequest = 1,
  kResponse = 2,
  kRst = 3,
  kShutdown = 4,
  kRw = 5,
  kCreditUpdate = 6,
  kCreditRequest = 7,
};
// VIRTIO_VSOCK_SHUTDOWN_F_*: the sender will receive / send no more.
inline constexpr uint32_t kShutdownRecv = 1, kShutdownSend = 2;

struct Header {
  uint64_t src_cid = 0, dst_cid = 0;
  uint32_t src_port = 0, dst_port = 0;
  uint32_t len = 0;  // payload bytes after the header
  uint16_t type = kTypeStream;
  Op op = Op::kInvalid;
  uint32_t flags = 0;
  uint32_t buf_alloc = 0;  // the sender's receive buffer for this connection
  uint32_t fwd_cnt = 0;    // bytes the sender has consumed from it so far
};

// A guest's header: nullopt (with `why` set) when fewer than 44 bytes, an unknown op, or a
// payload longer than kMaxPayload. Types other than stream parse (the caller answers RST).
std::optional<Header> parse_header(const uint8_t* data, size_t size, std::string* why = nullptr);
void write_header(const Header& h, uint8_t out[kHeaderSize]);

}  // namespace vessel::virtio::vsock
