// Frames for the network backends' tests (net_test.cpp, slirp_state_test.cpp): Ethernet, ARP,
// DHCP and a TCP SYN as a guest sends them, and a collector of what a backend delivers.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "host/net/net_backend.hpp"

namespace vessel::net_test {

using Frame = std::vector<uint8_t>;

constexpr MacAddress kGuestMac{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
constexpr uint32_t kGuestIp = 0x0a00020f;    // 10.0.2.15
constexpr uint32_t kGatewayIp = 0x0a000202;  // 10.0.2.2

inline void put16(Frame& f, size_t at, uint16_t v) {
  f[at] = static_cast<uint8_t>(v >> 8);
  f[at + 1] = static_cast<uint8_t>(v);
}
inline void put32(Frame& f, size_t at, uint32_t v) {
  put16(f, at, static_cast<uint16_t>(v >> 16));
  put16(f, at + 2, static_cast<uint16_t>(v));
}
inline uint16_t get16(const Frame& f, size_t at) {
  return static_cast<uint16_t>((f[at] << 8) | f[at + 1]);
}
inline uint32_t get32(const Frame& f, size_t at) {
  return (uint32_t{get16(f, at)} << 16) | get16(f, at + 2);
}

inline Frame ethernet(const MacAddress& dst, const MacAddress& src, uint16_t type, size_t payload) {
  Frame f(14 + payload);
  std::copy(dst.begin(), dst.end(), f.begin());
  std::copy(src.begin(), src.end(), f.begin() + 6);
  put16(f, 12, type);
  return f;
}

constexpr MacAddress kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

inline Frame arp_request(const MacAddress& sha, uint32_t spa, uint32_t tpa) {
  Frame f = ethernet(kBroadcast, sha, 0x0806, 28);
  put16(f, 14, 1);       // htype Ethernet
  put16(f, 16, 0x0800);  // ptype IPv4
  f[18] = 6;
  f[19] = 4;
  put16(f, 20, 1);  // request
  std::copy(sha.begin(), sha.end(), f.begin() + 22);
  put32(f, 28, spa);
  put32(f, 38, tpa);
  return f;
}

inline bool is_arp_reply(const Frame& f, uint32_t spa, uint32_t tpa) {
  return f.size() >= 42 && get16(f, 12) == 0x0806 && get16(f, 20) == 2 && get32(f, 28) == spa &&
         get32(f, 38) == tpa;
}

inline uint16_t ip_checksum(const Frame& f, size_t at, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i < len; i += 2) sum += get16(f, at + i);
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// DHCPDISCOVER from `mac`: IPv4 0.0.0.0 -> 255.255.255.255, UDP 68 -> 67, a BOOTP body with
// the full 312-byte options area that slirp expects.
inline Frame dhcp_discover(const MacAddress& mac = kGuestMac) {
  constexpr size_t kBootp = 236 + 312;
  Frame f = ethernet(kBroadcast, mac, 0x0800, 20 + 8 + kBootp);
  f[14] = 0x45;
  put16(f, 16, static_cast<uint16_t>(20 + 8 + kBootp));
  f[22] = 64;  // ttl
  f[23] = 17;  // UDP
  put32(f, 30, 0xffffffff);
  put16(f, 24, ip_checksum(f, 14, 20));
  put16(f, 34, 68);
  put16(f, 36, 67);
  put16(f, 38, static_cast<uint16_t>(8 + kBootp));
  const size_t b = 42;
  f[b] = 1;  // BOOTREQUEST
  f[b + 1] = 1;
  f[b + 2] = 6;
  put32(f, b + 4, 0x12345678);  // xid
  std::copy(mac.begin(), mac.end(), f.begin() + b + 28);
  put32(f, b + 236, 0x63825363);  // magic cookie
  f[b + 240] = 53;                // DHCP message type
  f[b + 241] = 1;
  f[b + 242] = 1;  // DISCOVER
  f[b + 243] = 255;
  return f;
}

// A BOOTP reply from slirp's DHCP server (UDP 67 -> 68) for the client with `mac` (chaddr).
inline bool is_dhcp_reply(const Frame& f, const MacAddress& mac = kGuestMac) {
  constexpr size_t kChaddr = 14 + 20 + 8 + 28;
  return f.size() > 42 + 240 && get16(f, 12) == 0x0800 && f[23] == 17 && get16(f, 34) == 67 &&
         get16(f, 36) == 68 && std::equal(mac.begin(), mac.end(), f.begin() + kChaddr);
}

// The value of DHCP option `code` in a BOOTP reply whose body starts at `b`.
inline std::optional<Frame> dhcp_option(const Frame& f, size_t b, uint8_t code) {
  for (size_t i = b + 240; i + 1 < f.size();) {
    const uint8_t c = f[i];
    if (c == 255) break;
    if (c == 0) {
      ++i;
      continue;
    }
    const size_t len = f[i + 1];
    if (i + 2 + len > f.size()) break;
    if (c == code)
      return Frame(f.begin() + static_cast<ptrdiff_t>(i + 2),
                   f.begin() + static_cast<ptrdiff_t>(i + 2 + len));
    i += 2 + len;
  }
  return std::nullopt;
}

// Frames a backend delivered (on the loop thread), for the test thread to wait on.
class Collector {
 public:
  NetBackend::Receiver receiver() {
    return [this](std::span<const uint8_t> frame) {
      std::lock_guard<std::mutex> lock(mu_);
      frames_.emplace_back(frame.begin(), frame.end());
      cv_.notify_all();
    };
  }
  // The first frame (old or new) matching pred, waiting up to `timeout`.
  std::optional<Frame> wait_for(const std::function<bool(const Frame&)>& pred,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mu_);
    std::optional<Frame> found;
    cv_.wait_for(lock, timeout, [&] {
      for (const Frame& f : frames_) {
        if (pred(f)) {
          found = f;
          return true;
        }
      }
      return false;
    });
    return found;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Frame> frames_;
};

// A TCP SYN from the guest (10.0.2.15:40000) to `dst`:`port`, checksums and all.
inline Frame tcp_syn(uint32_t dst, uint16_t port) {
  Frame f = ethernet(MacAddress{0x52, 0x55, 0x0a, 0x00, 0x02, 0x02}, kGuestMac, 0x0800, 40);
  f[14] = 0x45;
  put16(f, 16, 40);
  put16(f, 20, 0x4000);  // don't fragment
  f[22] = 64;
  f[23] = 6;
  put32(f, 26, kGuestIp);
  put32(f, 30, dst);
  put16(f, 24, ip_checksum(f, 14, 20));
  const size_t t = 34;
  put16(f, t, 40000);
  put16(f, t + 2, port);
  put32(f, t + 4, 1000);  // seq
  f[t + 12] = 5 << 4;     // 20-byte header
  f[t + 13] = 0x02;       // SYN
  put16(f, t + 14, 65535);
  // The TCP checksum covers a pseudo-header: addresses, protocol and length.
  Frame pseudo(12 + 20);
  put32(pseudo, 0, kGuestIp);
  put32(pseudo, 4, dst);
  pseudo[9] = 6;
  put16(pseudo, 10, 20);
  std::copy(f.begin() + t, f.end(), pseudo.begin() + 12);
  put16(f, t + 16, ip_checksum(pseudo, 0, pseudo.size()));
  return f;
}

}  // namespace vessel::net_test
