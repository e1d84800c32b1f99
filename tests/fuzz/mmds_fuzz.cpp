// libFuzzer target: what a hostile guest sends the metadata service over its HTTP connections,
// and the frames it sends a user network with mmds=on. The input's first byte picks how the
// rest is cut into arrivals (a request split anywhere must parse the same); the bytes go to one
// MmdsSession over a small store, and each reply must be whole HTTP responses. The same bytes
// are then tried as an Ethernet frame through the ARP answer and both address rewrites.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "host/net/mmds.hpp"

namespace {

void check_replies(std::string_view out) {
  while (!out.empty()) {
    if (!out.starts_with("HTTP/1.1 ")) std::abort();
    const size_t head_end = out.find("\r\n\r\n");
    const size_t cl = out.find("Content-Length: ");
    if (head_end == std::string_view::npos || cl == std::string_view::npos || cl > head_end) {
      std::abort();
    }
    const size_t len = std::strtoul(std::string(out.substr(cl + 16, 12)).c_str(), nullptr, 10);
    if (head_end + 4 + len > out.size()) std::abort();
    out.remove_prefix(head_end + 4 + len);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vessel::net;
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  static MmdsStore* store = [] {
    auto* s = new MmdsStore();
    (void)s->put(nlohmann::json::parse(
        R"({"latest": {"meta-data": {"id": "i-1", "n": 3, "list": [1], "o": {"k": "v"}}}})"));
    return s;
  }();
  store->set_version(data[0] & 0x80 ? MmdsVersion::kV1 : MmdsVersion::kV2);
  MmdsSession session(*store);
  const auto now = MmdsStore::Clock::now();
  for (size_t at = 0; at < input.size(); at += piece) {
    check_replies(session.feed(input.substr(at, piece), now));
  }
  std::vector<uint8_t> frame(data + 1, data + size);
  if (auto reply = mmds_arp_reply(frame); reply && reply->size() != 60) std::abort();
  rewrite_ipv4_address(frame, false, kMmdsAddress, kMmdsSlirpAlias);
  rewrite_ipv4_address(frame, true, kMmdsSlirpAlias, kMmdsAddress);
  return 0;
}
