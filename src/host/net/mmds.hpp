// The microVM metadata service (Firecracker's MMDS): a JSON document the host sets (the API,
// --metadata FILE) and the guest reads over HTTP at 169.254.169.254 through a user network
// with mmds=on. Version 2 (the default) hands out session tokens: PUT /latest/api/token with
// X-metadata-token-ttl-seconds, then GET with X-metadata-token. Version 1 answers any GET.
//
// MmdsStore is shared by the API thread (writes) and the I/O thread (reads), under its lock.
// MmdsSession parses one guest byte stream into requests and answers each; everything the
// guest sends is bounded (one request's head, the number of live tokens).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace vessel::net {

inline constexpr uint32_t kMmdsAddress = 0xa9fea9fe;  // 169.254.169.254, Firecracker's default
inline constexpr size_t kMmdsMaxStoreBytes = 51200;   // Firecracker's default data store limit
inline constexpr size_t kMmdsMaxRequestBytes = 4096;  // one request line and its headers
inline constexpr size_t kMmdsMaxTokens = 1024;
inline constexpr unsigned kMmdsMaxTtlSeconds = 21600;
// What one guest write may add to the replies waiting for it: a request head is a few bytes
// and a reply up to the whole store, so pipelined requests are answered up to this much and
// the rest dropped (the guest asked for more than it reads).
inline constexpr size_t kMmdsMaxReplyBytes = 128 * 1024;

enum class MmdsVersion { kV1, kV2 };

// Firecracker's words for the data store's errors (MmdsDatastoreError).
inline constexpr const char* kMmdsDoesNotFit = "The MMDS patch request doesn't fit.";
inline constexpr const char* kMmdsNotInitialized = "The MMDS data store is not initialized.";

class MmdsStore {
 public:
  using Clock = std::chrono::steady_clock;

  // PUT /mmds: the whole document (an object), within kMmdsMaxStoreBytes once serialised.
  Result<void> put(nlohmann::json data);
  // PATCH /mmds: an RFC 7396 merge patch onto the document; only after a put (Firecracker's
  // rule: kMmdsNotInitialized), and the result must fit as put's does.
  Result<void> patch(const nlohmann::json& patch);
  // The document ({} until the first put).
  nlohmann::json get() const;
  void set_version(MmdsVersion v);
  MmdsVersion version() const;
  // imds_compat: IMDS text whatever the guest's Accept header asks for (as EC2's IMDS).
  void set_imds_compat(bool on);
  bool imds_compat() const;
  // The guest-side address (169.254.x.y, host order). A user network reads it when it is
  // built, so it is set before the machine is (PUT /mmds/config is pre-boot).
  void set_address(uint32_t address);
  uint32_t address() const;

  // The guest's side. A token for `ttl` seconds (1..kMmdsMaxTtlSeconds; the caller checked).
  Result<std::string> new_token(unsigned ttl_seconds, Clock::time_point now);
  bool token_valid(const std::string& token, Clock::time_point now);
  // The value at a path ("/a/b"), or nullopt when there is none.
  std::optional<nlohmann::json> lookup(std::string_view path) const;

 private:
  mutable std::mutex mu_;
  nlohmann::json data_ = nlohmann::json::object();
  bool initialized_ = false;
  MmdsVersion version_ = MmdsVersion::kV2;
  bool imds_compat_ = false;
  uint32_t address_ = kMmdsAddress;
  std::map<std::string, Clock::time_point> tokens_;  // token -> expiry
};

// --metadata FILE (as Firecracker's): a store holding FILE's JSON object. Errors name FILE.
Result<std::shared_ptr<MmdsStore>> load_mmds_file(const std::string& path);

// One HTTP/1.1 byte stream from the guest. feed() takes what arrived and returns the bytes to
// send back: whole responses, and no more once they pass kMmdsMaxReplyBytes (requests beyond
// are read and dropped). A request that breaks the rules gets an error response and the
// stream starts over.
class MmdsSession {
 public:
  explicit MmdsSession(MmdsStore& store) : store_(store) {}
  std::string feed(std::string_view bytes, MmdsStore::Clock::time_point now);

 private:
  // The reply to one request head; with `reply` false only its body is arranged to be skipped.
  std::string answer(std::string_view head, MmdsStore::Clock::time_point now, bool reply);

  MmdsStore& store_;
  std::string pending_;   // an incomplete request head
  size_t body_left_ = 0;  // bytes of a request body still to be skipped
};

// What the guest gets for a value (Firecracker's formats): JSON when it asked for
// application/json; otherwise IMDS, where an object lists its keys (objects with a trailing
// '/') one per line and a string is itself; other values have no IMDS form.
std::optional<std::string> mmds_render(const nlohmann::json& value, bool json);

// The user network reaches MMDS through libslirp's guest forwarding, which serves addresses
// inside its own network only, so frames are rewritten between 169.254.169.254 and that
// address (kMmdsSlirpAlias): on an Ethernet IPv4 frame whose source (or destination) is
// `from`, the address becomes `to`, and the IPv4 and TCP/UDP checksums are adjusted
// (RFC 1624). False, and the frame untouched, when it is not such a frame.
inline constexpr uint32_t kMmdsSlirpAlias = 0x0a0002fe;  // 10.0.2.254
bool rewrite_ipv4_address(std::span<uint8_t> frame, bool source, uint32_t from, uint32_t to);
// Whether an Ethernet IPv4 frame's source (or destination) address is `addr`: the cheap test
// before a frame is copied to be rewritten.
bool ipv4_address_is(std::span<const uint8_t> frame, bool source, uint32_t addr);
// A guest that routes 169.254.169.254 onto its link (as Firecracker's guide has it: `ip route
// add 169.254.169.254 dev eth0`) asks for its hardware address, which slirp does not answer
// outside its network: the reply to an ARP request for kMmdsAddress, or nullopt for any
// other frame. The address given is 52:55 and the IPv4 address, as slirp makes its own.
std::optional<std::vector<uint8_t>> mmds_arp_reply(std::span<const uint8_t> frame,
                                                   uint32_t address = kMmdsAddress);
// Whether `address` (host order) may be the metadata service's: link-local 169.254.0.0/16 but
// not its first or last 256 addresses (RFC 3927's reserved ones), as Firecracker checks.
bool mmds_address_valid(uint32_t address);

}  // namespace vessel::net
