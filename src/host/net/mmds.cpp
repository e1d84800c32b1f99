#include "host/net/mmds.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>
#include <vector>

#include "base/random.hpp"

namespace vessel::net {

namespace {

Result<void> check_size(const nlohmann::json& data) {
  if (!data.is_object()) return make_error("the MMDS data store must be a JSON object");
  const size_t bytes = data.dump().size();
  if (bytes > kMmdsMaxStoreBytes) {
    return make_error(
        fmt::format("{} (the data store would be {} bytes of JSON, over its limit of {})",
                    kMmdsDoesNotFit, bytes, kMmdsMaxStoreBytes));
  }
  return {};
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

struct Request {
  std::string_view method, path;
  std::vector<std::pair<std::string_view, std::string_view>> headers;

  std::optional<std::string_view> header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (iequals(k, name)) return v;
    }
    return std::nullopt;
  }
};

// "GET /path?query HTTP/1.1\r\nName: value\r\n...": nullopt when it is not HTTP/1.x.
std::optional<Request> parse_head(std::string_view head) {
  Request r;
  size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  const size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return std::nullopt;
  r.method = line.substr(0, sp1);
  r.path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!line.substr(sp2 + 1).starts_with("HTTP/1.") || r.path.empty() || r.path[0] != '/') {
    return std::nullopt;
  }
  r.path = r.path.substr(0, r.path.find('?'));
  while (eol != std::string_view::npos) {
    const size_t start = eol + 2;
    eol = head.find("\r\n", start);
    const std::string_view field =
        head.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
    if (field.empty()) continue;
    const size_t colon = field.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    r.headers.emplace_back(trim(field.substr(0, colon)), trim(field.substr(colon + 1)));
  }
  return r;
}

std::string response(int code, std::string_view reason, std::string_view type,
                     std::string_view body, std::string_view extra = {}) {
  return fmt::format(
      "HTTP/1.1 {} {}\r\nServer: Vessel MMDS\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}\r\n{}",
      code, reason, type, body.size(), extra, body);
}

std::string error(int code, std::string_view reason, std::string_view message) {
  return response(code, reason, "text/plain", message);
}

}  // namespace

Result<std::shared_ptr<MmdsStore>> load_mmds_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(fmt::format("--metadata {}: {}", path, std::strerror(errno)));
  // One byte over the limit is enough to refuse it.
  std::string text(kMmdsMaxStoreBytes * 4 + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  nlohmann::json data = nlohmann::json::parse(text, nullptr, false);
  if (data.is_discarded()) return make_error(fmt::format("--metadata {}: not valid JSON", path));
  auto store = std::make_shared<MmdsStore>();
  if (auto put = store->put(std::move(data)); !put) {
    return make_error(fmt::format("--metadata {}: {}", path, put.error().message));
  }
  return store;
}

Result<void> MmdsStore::put(nlohmann::json data) {
  TRY_VOID(check_size(data));
  std::lock_guard<std::mutex> lock(mu_);
  data_ = std::move(data);
  initialized_ = true;
  return {};
}

Result<void> MmdsStore::patch(const nlohmann::json& patch) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!initialized_) return make_error(kMmdsNotInitialized);
  nlohmann::json next = data_;
  next.merge_patch(patch);
  TRY_VOID(check_size(next));
  data_ = std::move(next);
  return {};
}

nlohmann::json MmdsStore::get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return data_;
}

void MmdsStore::set_version(MmdsVersion v) {
  std::lock_guard<std::mutex> lock(mu_);
  version_ = v;
}

MmdsVersion MmdsStore::version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return version_;
}

void MmdsStore::set_imds_compat(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  imds_compat_ = on;
}

bool MmdsStore::imds_compat() const {
  std::lock_guard<std::mutex> lock(mu_);
  return imds_compat_;
}

void MmdsStore::set_address(uint32_t address) {
  std::lock_guard<std::mutex> lock(mu_);
  address_ = address;
}

uint32_t MmdsStore::address() const {
  std::lock_guard<std::mutex> lock(mu_);
  return address_;
}

bool mmds_address_valid(uint32_t address) {
  const uint32_t third = (address >> 8) & 0xff;
  return (address >> 16) == 0xa9fe && third != 0 && third != 0xff;
}

Result<std::string> MmdsStore::new_token(unsigned ttl_seconds, Clock::time_point now) {
  std::string token = TRY(random_hex(32));
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(tokens_, [now](const auto& t) { return t.second <= now; });
  // A guest asking for tokens in a loop replaces its own oldest ones, never grows the map.
  while (tokens_.size() >= kMmdsMaxTokens) {
    tokens_.erase(
        std::min_element(tokens_.begin(), tokens_.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; }));
  }
  tokens_.emplace(token, now + std::chrono::seconds(ttl_seconds));
  return token;
}

bool MmdsStore::token_valid(const std::string& token, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tokens_.find(token);
  return it != tokens_.end() && it->second > now;
}

std::optional<nlohmann::json> MmdsStore::lookup(std::string_view path) const {
  std::lock_guard<std::mutex> lock(mu_);
  const nlohmann::json* node = &data_;
  while (!path.empty()) {
    const size_t slash = path.find('/');
    const std::string_view key = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    if (key.empty()) continue;
    if (!node->is_object()) return std::nullopt;
    auto it = node->find(std::string(key));
    if (it == node->end()) return std::nullopt;
    node = &*it;
  }
  return *node;
}

std::optional<std::string> mmds_render(const nlohmann::json& value, bool json) {
  if (json) return value.dump();
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_object()) return std::nullopt;
  std::string out;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (!out.empty()) out += '\n';
    out += it.key();
    if (it.value().is_object()) out += '/';
  }
  return out;
}

std::string MmdsSession::feed(std::string_view bytes, MmdsStore::Clock::time_point now) {
  std::string out;
  while (!bytes.empty()) {
    if (body_left_ > 0) {  // a body no request here needs
      const size_t skip = std::min(body_left_, bytes.size());
      body_left_ -= skip;
      bytes.remove_prefix(skip);
      continue;
    }
    const size_t room = kMmdsMaxRequestBytes - pending_.size();
    const size_t take = std::min(room, bytes.size());
    // Only the new bytes (and the three before them) can complete a head: a request that
    // arrives a byte at a time costs no more than one that arrives whole.
    size_t from = pending_.size() < 3 ? 0 : pending_.size() - 3;
    pending_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    size_t end;
    while ((end = pending_.find("\r\n\r\n", from)) != std::string::npos) {
      from = 0;
      const std::string head = pending_.substr(0, end + 2);
      pending_.erase(0, end + 4);
      // Past the budget, a request is read (its body skipped) but not answered.
      out += answer(head, now, out.size() < kMmdsMaxReplyBytes);
      if (body_left_ > 0) {  // the body started inside what is pending
        const size_t skip = std::min(body_left_, pending_.size());
        body_left_ -= skip;
        pending_.erase(0, skip);
      }
    }
    if (pending_.size() >= kMmdsMaxRequestBytes) {
      pending_.clear();
      out += error(400, "Bad Request", "The request is too long.");
    }
  }
  return out;
}

std::string MmdsSession::answer(std::string_view head, MmdsStore::Clock::time_point now,
                                bool reply) {
  const std::optional<Request> req = parse_head(head);
  if (!req) return reply ? error(400, "Bad Request", "Malformed HTTP request.") : std::string();
  if (auto length = req->header("Content-Length")) {
    size_t n = 0;
    const auto [p, ec] = std::from_chars(length->data(), length->data() + length->size(), n);
    if (ec != std::errc() || p != length->data() + length->size()) {
      return reply ? error(400, "Bad Request", "Invalid Content-Length.") : std::string();
    }
    body_left_ = n;
  }
  if (!reply) return {};
  if (req->method == "PUT" && req->path == "/latest/api/token") {
    if (req->header("X-Forwarded-For")) {
      return error(400, "Bad Request",
                   "Invalid header. Reason: Unsupported header name. Key: X-Forwarded-For");
    }
    const auto ttl_text = req->header("X-metadata-token-ttl-seconds");
    if (!ttl_text) {
      return error(400, "Bad Request",
                   "Token time to live value not found. Use `X-metadata-token-ttl-seconds` "
                   "header to specify the token's lifetime.");
    }
    unsigned ttl = 0;
    const auto [p, ec] =
        std::from_chars(ttl_text->data(), ttl_text->data() + ttl_text->size(), ttl);
    if (ec != std::errc() || p != ttl_text->data() + ttl_text->size() || ttl == 0 ||
        ttl > kMmdsMaxTtlSeconds) {
      return error(400, "Bad Request",
                   fmt::format("Invalid time to live value provided for token: {}. Please "
                               "provide a value between 1 and {}.",
                               *ttl_text, kMmdsMaxTtlSeconds));
    }
    auto token = store_.new_token(ttl, now);
    if (!token) return error(500, "Internal Server Error", token.error().message);
    return response(200, "OK", "text/plain", *token);
  }
  if (req->method != "GET") {
    return response(405, "Method Not Allowed", "text/plain", "Not allowed HTTP method.",
                    "Allow: GET, PUT\r\n");
  }
  if (store_.version() == MmdsVersion::kV2) {
    const auto token = req->header("X-metadata-token");
    if (!token) {
      return error(401, "Unauthorized",
                   "No MMDS token provided. Use `X-metadata-token` header to specify the session "
                   "token.");
    }
    if (!store_.token_valid(std::string(*token), now)) {
      return error(401, "Unauthorized", "MMDS token not valid.");
    }
  }
  const std::optional<nlohmann::json> value = store_.lookup(req->path);
  if (!value) return error(404, "Not Found", fmt::format("Resource not found: {}.", req->path));
  const auto accept = req->header("Accept");
  const bool json =
      accept && accept->find("application/json") != std::string_view::npos && !store_.imds_compat();
  const std::optional<std::string> body = mmds_render(*value, json);
  if (!body) {
    return error(501, "Not Implemented",
                 "Cannot retrieve value. The value has an unsupported type.");
  }
  return response(200, "OK", json ? "application/json" : "text/plain", *body);
}

namespace {

uint32_t load_be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// The one's-complement checksum at p, with the 32-bit value old replaced by new (RFC 1624,
// equation 3: HC' = ~(~HC + ~m + m')).
void adjust_checksum(uint8_t* p, uint32_t old_value, uint32_t new_value, bool zero_is_none) {
  const uint16_t sum = static_cast<uint16_t>(p[0] << 8 | p[1]);
  if (zero_is_none && sum == 0) return;  // UDP: no checksum was computed
  uint32_t s = static_cast<uint16_t>(~sum);
  s += static_cast<uint16_t>(~old_value >> 16) + static_cast<uint16_t>(~old_value & 0xffff);
  s += (new_value >> 16) + (new_value & 0xffff);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  uint16_t out = static_cast<uint16_t>(~s);
  if (zero_is_none && out == 0) out = 0xffff;
  p[0] = static_cast<uint8_t>(out >> 8);
  p[1] = static_cast<uint8_t>(out);
}

}  // namespace

bool ipv4_address_is(std::span<const uint8_t> frame, bool source, uint32_t addr) {
  // The addresses sit at fixed offsets of the IPv4 header, options or not.
  constexpr size_t kEth = 14;
  return frame.size() >= kEth + 20 && frame[12] == 0x08 && frame[13] == 0x00 &&
         load_be32(frame.data() + kEth + (source ? 12 : 16)) == addr;
}

bool rewrite_ipv4_address(std::span<uint8_t> frame, bool source, uint32_t from, uint32_t to) {
  constexpr size_t kEth = 14;
  if (!ipv4_address_is(frame, source, from)) return false;
  uint8_t* ip = frame.data() + kEth;
  const size_t ihl = size_t{ip[0] & 0x0fu} * 4;
  if ((ip[0] >> 4) != 4 || ihl < 20 || frame.size() < kEth + ihl) return false;
  store_be32(ip + (source ? 12 : 16), to);
  adjust_checksum(ip + 10, from, to, false);
  // Only a first fragment carries the transport header whose checksum covers the addresses.
  const bool first_fragment = ((ip[6] & 0x1f) | ip[7]) == 0;
  const size_t rest = frame.size() - kEth - ihl;
  if (first_fragment && ip[9] == 6 && rest >= 18) adjust_checksum(ip + ihl + 16, from, to, false);
  if (first_fragment && ip[9] == 17 && rest >= 8) adjust_checksum(ip + ihl + 6, from, to, true);
  return true;
}

std::optional<std::vector<uint8_t>> mmds_arp_reply(std::span<const uint8_t> frame,
                                                   uint32_t address) {
  constexpr size_t kEth = 14, kArp = 28;
  if (frame.size() < kEth + kArp || frame[12] != 0x08 || frame[13] != 0x06) return std::nullopt;
  const uint8_t* arp = frame.data() + kEth;
  // Ethernet/IPv4, a request, for the metadata service's address.
  const uint8_t head[8] = {0, 1, 0x08, 0x00, 6, 4, 0, 1};
  if (!std::equal(head, head + 8, arp) || load_be32(arp + 24) != address) return std::nullopt;
  uint8_t mac[6] = {0x52, 0x55, 0, 0, 0, 0};
  store_be32(mac + 2, address);
  std::vector<uint8_t> r(60, 0);            // the minimum Ethernet frame, padded
  std::copy(arp + 8, arp + 14, r.begin());  // to the asker's hardware address
  std::copy(mac, mac + 6, r.begin() + 6);
  r[12] = 0x08;
  r[13] = 0x06;
  uint8_t* out = r.data() + kEth;
  std::copy(head, head + 7, out);
  out[7] = 2;  // a reply
  std::copy(mac, mac + 6, out + 8);
  store_be32(out + 14, address);
  std::copy(arp + 8, arp + 18, out + 18);  // the asker's hardware and protocol addresses
  return r;
}

}  // namespace vessel::net
