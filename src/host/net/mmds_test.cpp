// The metadata service: its store (PUT/PATCH, the size limit), the guest's HTTP (tokens, the
// IMDS and JSON renderings, refusals, a hostile stream) and the address rewrite that carries
// it through slirp.
#include "host/net/mmds.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vessel::net {
namespace {

using Clock = MmdsStore::Clock;
using nlohmann::json;

const json kDoc = json::parse(R"({"latest": {"meta-data": {"ami-id": "ami-12345678",
  "reservation-id": "r-fea54097", "local-hostname": "vessel", "network": {"mac": "x"}},
  "count": 3}})");

struct Reply {
  int code = 0;
  std::string headers, body;
};

// Splits a stream of responses (each with Content-Length).
std::vector<Reply> replies(std::string out) {
  std::vector<Reply> all;
  while (!out.empty()) {
    Reply r;
    const size_t head_end = out.find("\r\n\r\n");
    EXPECT_NE(head_end, std::string::npos) << out;
    if (head_end == std::string::npos) break;
    r.headers = out.substr(0, head_end);
    r.code = std::stoi(r.headers.substr(9, 3));
    const size_t cl = r.headers.find("Content-Length: ");
    const size_t len = std::stoul(r.headers.substr(cl + 16));
    r.body = out.substr(head_end + 4, len);
    out.erase(0, head_end + 4 + len);
    all.push_back(r);
  }
  return all;
}

class MmdsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(store_.put(kDoc).ok()); }
  Reply ask(const std::string& request) {
    auto all = replies(session_.feed(request, now_));
    EXPECT_EQ(all.size(), 1u) << request;
    return all.empty() ? Reply{} : all[0];
  }
  std::string token(unsigned ttl = 60) {
    Reply r = ask("PUT /latest/api/token HTTP/1.1\r\nX-metadata-token-ttl-seconds: " +
                  std::to_string(ttl) + "\r\n\r\n");
    EXPECT_EQ(r.code, 200) << r.body;
    return r.body;
  }
  Reply get(const std::string& path, const std::string& tok, const std::string& extra = "") {
    return ask("GET " + path + " HTTP/1.1\r\nHost: 169.254.169.254\r\nX-metadata-token: " + tok +
               "\r\n" + extra + "\r\n");
  }

  MmdsStore store_;
  MmdsSession session_{store_};
  Clock::time_point now_ = Clock::now();
};

TEST_F(MmdsTest, V2TokensThenImdsAndJson) {
  const std::string tok = token();
  EXPECT_EQ(tok.size(), 64u);
  Reply r = get("/latest/meta-data/", tok);
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.body, "ami-id\nlocal-hostname\nnetwork/\nreservation-id");
  r = get("/latest/meta-data/ami-id", tok);
  EXPECT_EQ(r.body, "ami-12345678");
  r = get("/latest/meta-data", tok, "Accept: application/json\r\n");
  EXPECT_EQ(json::parse(r.body), kDoc["latest"]["meta-data"]);
  EXPECT_NE(r.headers.find("application/json"), std::string::npos);
  r = get("/latest/count", tok);
  EXPECT_EQ(r.code, 501) << "a number has no IMDS form";
  EXPECT_EQ(get("/latest/count", tok, "Accept: application/json\r\n").body, "3");
  EXPECT_EQ(get("/latest/nothing", tok).code, 404);
  EXPECT_EQ(get("/latest/meta-data/ami-id/deeper", tok).code, 404);
  // Query strings are not part of the path.
  EXPECT_EQ(get("/latest/meta-data/ami-id?x=1", tok).body, "ami-12345678");
}

TEST_F(MmdsTest, V2RefusesMissingExpiredAndForgedTokens) {
  Reply r = ask("GET /latest HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.code, 401);
  EXPECT_NE(r.body.find("X-metadata-token"), std::string::npos);
  EXPECT_EQ(get("/latest", std::string(64, 'a')).code, 401);
  const std::string tok = token(1);
  EXPECT_EQ(get("/latest", tok).code, 200);
  now_ += std::chrono::seconds(2);
  EXPECT_EQ(get("/latest", tok).code, 401) << "expired after its TTL";
  for (const char* ttl : {"0", "21601", "x", "-1", ""}) {
    r = ask(std::string("PUT /latest/api/token HTTP/1.1\r\nX-metadata-token-ttl-seconds: ") + ttl +
            "\r\n\r\n");
    EXPECT_EQ(r.code, 400) << ttl;
  }
  EXPECT_EQ(ask("PUT /latest/api/token HTTP/1.1\r\n\r\n").code, 400);
  EXPECT_EQ(ask("PUT /latest/api/token HTTP/1.1\r\nX-metadata-token-ttl-seconds: 5\r\n"
                "X-Forwarded-For: 1.2.3.4\r\n\r\n")
                .code,
            400);
}

TEST_F(MmdsTest, V1AnswersWithoutToken) {
  store_.set_version(MmdsVersion::kV1);
  EXPECT_EQ(ask("GET /latest/meta-data/local-hostname HTTP/1.0\r\n\r\n").body, "vessel");
}

TEST_F(MmdsTest, StreamsSplitPipelinedAndHostile) {
  const std::string tok = token();
  // One request in single bytes, then two in one piece, a body skipped between.
  const std::string one =
      "GET /latest/meta-data/ami-id HTTP/1.1\r\nX-metadata-token: " + tok + "\r\n\r\n";
  std::string out;
  for (char c : one) out += session_.feed(std::string(1, c), now_);
  ASSERT_EQ(replies(out).size(), 1u);
  EXPECT_EQ(replies(out)[0].body, "ami-12345678");
  const std::string with_body = "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" + one + one;
  auto all = replies(session_.feed(with_body, now_));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].code, 405);
  EXPECT_NE(all[0].headers.find("Allow: GET, PUT"), std::string::npos);
  EXPECT_EQ(all[2].body, "ami-12345678");
  // Garbage, and a head that never ends: an error each, and the stream goes on.
  EXPECT_EQ(ask("NONSENSE\r\n\r\n").code, 400);
  all = replies(session_.feed(std::string(3 * kMmdsMaxRequestBytes, 'A'), now_));
  ASSERT_FALSE(all.empty());
  for (const Reply& r : all) EXPECT_EQ(r.code, 400);
  EXPECT_EQ(get("/latest/meta-data/ami-id", tok).code, 200);
}

TEST_F(MmdsTest, TokensAreBounded) {
  for (size_t i = 0; i < kMmdsMaxTokens + 50; ++i) ASSERT_TRUE(store_.new_token(60, now_));
  const std::string newest = token();
  EXPECT_EQ(get("/latest", newest).code, 200);
}

// Pipelined requests whose replies would pass the budget are read and dropped, not answered: a
// guest sending "GET /" in a loop cannot make one write cost the host the store many times over.
TEST_F(MmdsTest, RepliesToOneWriteAreBounded) {
  ASSERT_TRUE(store_.put(json{{"blob", std::string(kMmdsMaxStoreBytes - 64, 'x')}}).ok());
  store_.set_version(MmdsVersion::kV1);
  std::string flood;
  while (flood.size() < 64 * 1024) flood += "GET /blob HTTP/1.1\r\nContent-Length: 2\r\n\r\nab";
  const std::string out = session_.feed(flood, now_);
  EXPECT_LE(out.size(), kMmdsMaxReplyBytes + kMmdsMaxStoreBytes + 512);
  EXPECT_GE(replies(out).size(), 2u);
  // The dropped requests' bodies were skipped: the stream is still in step.
  EXPECT_EQ(ask("GET / HTTP/1.1\r\n\r\n").code, 200);
}

TEST_F(MmdsTest, ImdsCompatIgnoresAccept) {
  store_.set_imds_compat(true);
  const Reply r = get("/latest/meta-data", token(), "Accept: application/json\r\n");
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.body.find('{'), std::string::npos) << r.body;
}

TEST(MmdsStoreTest, PatchNeedsAPutFirst) {
  MmdsStore store;
  EXPECT_EQ(store.get(), json::object());
  auto r = store.patch(json{{"a", 1}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, kMmdsNotInitialized);
  ASSERT_TRUE(store.put(json::object()).ok());
  EXPECT_TRUE(store.patch(json{{"a", 1}}).ok());
}

TEST(MmdsStoreTest, AddressRules) {
  EXPECT_TRUE(mmds_address_valid(kMmdsAddress));
  EXPECT_TRUE(mmds_address_valid(0xa9fe0101));   // 169.254.1.1
  EXPECT_FALSE(mmds_address_valid(0xa9fe0001));  // 169.254.0.1: reserved
  EXPECT_FALSE(mmds_address_valid(0xa9feff01));  // 169.254.255.1: reserved
  EXPECT_FALSE(mmds_address_valid(0x0a000202));  // 10.0.2.2: not link-local
}

TEST(MmdsStoreTest, PutPatchAndLimits) {
  MmdsStore store;
  EXPECT_FALSE(store.put(json::array()).ok()) << "the document is an object";
  ASSERT_TRUE(store.put(json{{"a", {{"b", 1}, {"c", 2}}}}).ok());
  ASSERT_TRUE(store.patch(json::parse(R"({"a": {"b": null, "d": "x"}, "e": true})")).ok());
  EXPECT_EQ(store.get(), json::parse(R"({"a": {"c": 2, "d": "x"}, "e": true})"));
  const json big = json{{"blob", std::string(kMmdsMaxStoreBytes, 'x')}};
  auto r = store.put(big);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(kMmdsDoesNotFit), std::string::npos);
  EXPECT_FALSE(store.patch(big).ok());
  EXPECT_EQ(store.get()["e"], true) << "a refused patch changes nothing";
}

// A TCP segment to 169.254.169.254 becomes one to slirp's alias with both checksums still
// valid, and back.
TEST(MmdsRewrite, AddressesAndChecksums) {
  std::vector<uint8_t> f(14 + 20 + 20, 0);
  f[12] = 0x08;
  f[13] = 0x00;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  ip[3] = 40;
  ip[8] = 64;
  ip[9] = 6;
  const uint8_t src[4] = {10, 0, 2, 15}, dst[4] = {169, 254, 169, 254};
  std::copy(src, src + 4, ip + 12);
  std::copy(dst, dst + 4, ip + 16);
  uint8_t* tcp = ip + 20;
  tcp[1] = 0x50;  // source port 80 (arbitrary), data offset below
  tcp[3] = 0x50;
  tcp[12] = 0x50;
  auto sum = [](const uint8_t* p, size_t n, uint32_t s) {
    for (size_t i = 0; i + 1 < n; i += 2) s += uint32_t{p[i]} << 8 | p[i + 1];
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return s;
  };
  auto tcp_sum = [&](const std::vector<uint8_t>& frame) {
    const uint8_t* h = frame.data() + 14;
    uint32_t s = sum(h + 12, 8, 0) + 6 + 20;
    return static_cast<uint16_t>(~sum(h + 20, 20, s));
  };
  auto ip_sum = [&](const std::vector<uint8_t>& frame) {
    return static_cast<uint16_t>(~sum(frame.data() + 14, 20, 0));
  };
  const uint16_t isum = ip_sum(f);
  ip[10] = static_cast<uint8_t>(isum >> 8);
  ip[11] = static_cast<uint8_t>(isum);
  const uint16_t tsum = tcp_sum(f);
  tcp[16] = static_cast<uint8_t>(tsum >> 8);
  tcp[17] = static_cast<uint8_t>(tsum);
  ASSERT_EQ(ip_sum(f), 0);
  ASSERT_EQ(tcp_sum(f), 0);

  EXPECT_FALSE(rewrite_ipv4_address(f, true, kMmdsAddress, kMmdsSlirpAlias)) << "not the source";
  ASSERT_TRUE(rewrite_ipv4_address(f, false, kMmdsAddress, kMmdsSlirpAlias));
  EXPECT_EQ(std::vector<uint8_t>(ip + 16, ip + 20), (std::vector<uint8_t>{10, 0, 2, 254}));
  EXPECT_EQ(ip_sum(f), 0);
  EXPECT_EQ(tcp_sum(f), 0);
  ASSERT_TRUE(rewrite_ipv4_address(f, false, kMmdsSlirpAlias, kMmdsAddress));
  EXPECT_EQ(std::vector<uint8_t>(ip + 16, ip + 20), (std::vector<uint8_t>{169, 254, 169, 254}));
  EXPECT_EQ(ip_sum(f), 0);
  EXPECT_EQ(tcp_sum(f), 0);
  // Too short, not IPv4: untouched.
  std::vector<uint8_t> runt(f.begin(), f.begin() + 30);
  EXPECT_FALSE(rewrite_ipv4_address(runt, false, kMmdsAddress, kMmdsSlirpAlias));
  f[13] = 0x06;  // ARP
  EXPECT_FALSE(rewrite_ipv4_address(f, false, kMmdsAddress, kMmdsSlirpAlias));
}

TEST(MmdsArp, AnswersWhoHas169254169254Only) {
  std::vector<uint8_t> req(42, 0);
  const uint8_t guest_mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
  std::fill_n(req.begin(), 6, 0xff);
  std::copy(guest_mac, guest_mac + 6, req.begin() + 6);
  req[12] = 0x08;
  req[13] = 0x06;
  const uint8_t arp[28] = {0,  1, 8, 0,  6, 4, 0, 1, 0x52, 0x54, 0,   0x12, 0x34, 0x56,
                           10, 0, 2, 15, 0, 0, 0, 0, 0,    0,    169, 254,  169,  254};
  std::copy(arp, arp + 28, req.begin() + 14);
  auto reply = mmds_arp_reply(req);
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->size(), 60u);
  EXPECT_EQ(std::vector<uint8_t>(reply->begin(), reply->begin() + 6),
            std::vector<uint8_t>(guest_mac, guest_mac + 6));
  const uint8_t* r = reply->data() + 14;
  EXPECT_EQ(r[7], 2) << "a reply";
  EXPECT_EQ(std::vector<uint8_t>(r + 8, r + 18),
            (std::vector<uint8_t>{0x52, 0x55, 0xa9, 0xfe, 0xa9, 0xfe, 169, 254, 169, 254}));
  EXPECT_EQ(std::vector<uint8_t>(r + 18, r + 28), std::vector<uint8_t>(arp + 8, arp + 18));
  req[14 + 27] = 253;  // another address
  EXPECT_FALSE(mmds_arp_reply(req).has_value());
  // ... unless it is the one configured (PUT /mmds/config's ipv4_address).
  auto other = mmds_arp_reply(req, 0xa9fea9fd);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ((*other)[14 + 8 + 5], 0xfd);
  req[14 + 27] = 254;
  req[14 + 7] = 2;  // a reply is not a question
  EXPECT_FALSE(mmds_arp_reply(req).has_value());
  EXPECT_FALSE(mmds_arp_reply(std::span<const uint8_t>(req.data(), 41)).has_value());
}

}  // namespace
}  // namespace vessel::net
