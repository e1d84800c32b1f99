// The token buckets on a made-up clock: capacity, refill rate (fractions kept), the one-time
// burst, no-limit buckets, and the two buckets of a rate limiter together.
#include "base/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace vessel {
namespace {

using namespace std::chrono_literals;
using Clock = TokenBucket::Clock;

TEST(TokenBucket, StartsFullAndRefillsAtItsRate) {
  const Clock::time_point t0{};
  TokenBucket b({.size = 1000, .one_time_burst = 0, .refill_time_ms = 100}, t0);
  EXPECT_EQ(b.available(t0), 1000u);
  b.take(1000, t0);
  EXPECT_EQ(b.available(t0), 0u);
  EXPECT_EQ(b.available(t0 + 10ms), 100u) << "size per refill_time";
  EXPECT_EQ(b.available(t0 + 50ms), 500u);
  EXPECT_EQ(b.available(t0 + 1s), 1000u) << "never more than its size";
}

TEST(TokenBucket, KeepsFractionsOfATokenAcrossCalls) {
  const Clock::time_point t0{};
  // 3 tokens a second: one every 333.3 ms. Asking every millisecond must not lose the rest.
  TokenBucket b({.size = 3, .one_time_burst = 0, .refill_time_ms = 1000}, t0);
  b.take(3, t0);
  uint64_t seen = 0;
  for (int ms = 1; ms <= 1000; ++ms) seen = b.available(t0 + std::chrono::milliseconds(ms));
  EXPECT_EQ(seen, 3u);
}

TEST(TokenBucket, BurstIsSpentFirstAndNotRefilled) {
  const Clock::time_point t0{};
  TokenBucket b({.size = 100, .one_time_burst = 400, .refill_time_ms = 1000}, t0);
  EXPECT_EQ(b.available(t0), 500u);
  b.take(450, t0);
  EXPECT_EQ(b.available(t0), 50u);
  EXPECT_EQ(b.available(t0 + 10s), 100u) << "the burst does not come back";
}

TEST(TokenBucket, ZeroSizeOrRefillTimeLimitsNothing) {
  const Clock::time_point t0{};
  for (TokenBucketConfig c : {TokenBucketConfig{0, 5, 100}, TokenBucketConfig{100, 5, 0}}) {
    TokenBucket b(c, t0);
    EXPECT_EQ(b.available(t0), UINT64_MAX);
    b.take(1u << 30, t0);
    EXPECT_EQ(b.available(t0), UINT64_MAX);
    EXPECT_EQ(b.wait_for(1u << 30, t0), Clock::duration::zero());
  }
}

TEST(TokenBucket, WaitFor) {
  const Clock::time_point t0{};
  TokenBucket b({.size = 10, .one_time_burst = 0, .refill_time_ms = 1000}, t0);
  b.take(10, t0);
  EXPECT_EQ(b.wait_for(1, t0), 100ms) << "one token every 100 ms";
  EXPECT_EQ(b.wait_for(1, t0 + 40ms), 60ms) << "the time toward the next token counts";
  EXPECT_EQ(b.wait_for(5, t0 + 40ms), 460ms);
  EXPECT_EQ(b.wait_for(1, t0 + 100ms), Clock::duration::zero());
  EXPECT_EQ(b.capacity(), 10u);
}

TEST(TokenBucket, HugeValuesDoNotOverflow) {
  const Clock::time_point t0{};
  TokenBucket b({.size = UINT64_MAX, .one_time_burst = UINT64_MAX, .refill_time_ms = UINT64_MAX},
                t0);
  EXPECT_EQ(b.available(t0), UINT64_MAX);
  b.take(UINT64_MAX, t0);
  b.take(UINT64_MAX, t0);
  // refill_time saturates at 2^64 ns (584 years): 1000 hours earn 1000 h / 584 y of the size.
  const uint64_t later = b.available(t0 + 1000h);
  EXPECT_GT(later, 0u);
  EXPECT_LT(later, UINT64_MAX / 4);
}

TEST(RateLimiter, GrantsWholeRequestsWithinBothBuckets) {
  const Clock::time_point t0{};
  RateLimiterConfig c;
  c.bandwidth = TokenBucketConfig{.size = 1024, .one_time_burst = 0, .refill_time_ms = 1000};
  c.ops = TokenBucketConfig{.size = 4, .one_time_burst = 0, .refill_time_ms = 1000};
  RateLimiter r(c, t0);
  EXPECT_EQ(r.grant(600, t0), 600u);
  EXPECT_EQ(r.grant(600, t0), 0u) << "424 bytes left: the request waits whole";
  EXPECT_EQ(r.wait(600, t0), std::chrono::nanoseconds(171'875'000)) << "176 bytes at 1024/s";
  EXPECT_EQ(r.grant(5000, t0 + 1s), 1024u) << "bigger than the bucket: a full bucket";
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r.grant(1, t0 + 2s), 1u);
  EXPECT_EQ(r.grant(1, t0 + 2s), 0u) << "four operations a second, all spent";
  EXPECT_EQ(r.wait(1, t0 + 2s), 250ms);
  RateLimiter none({}, t0);
  EXPECT_EQ(none.grant(1u << 20, t0), 1u << 20);
}

}  // namespace
}  // namespace vessel
