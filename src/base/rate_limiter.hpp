// Firecracker's rate limiter, for a device's I/O: two token buckets, one counting bytes
// (bandwidth) and one counting operations (ops). A bucket holds up to `size` tokens, refilled
// at size per refill_time milliseconds, and starts with an extra one_time_burst that is spent
// first and never comes back. A bucket with size or refill_time 0 limits nothing, as
// Firecracker's.
//
// Used on one thread (the device's I/O turn); time is passed in so tests need no clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace vessel {

struct TokenBucketConfig {
  uint64_t size = 0;
  uint64_t one_time_burst = 0;
  uint64_t refill_time_ms = 0;
  bool limits() const { return size != 0 && refill_time_ms != 0; }
  bool operator==(const TokenBucketConfig&) const = default;
};

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(const TokenBucketConfig& config, Clock::time_point now);

  // The tokens that could be taken now (burst included; UINT64_MAX for no limit).
  uint64_t available(Clock::time_point now);
  // The most it can ever hold at once: its size and what is left of the burst.
  uint64_t capacity() const;
  // Takes `tokens`, which must be at most available(now).
  void take(uint64_t tokens, Clock::time_point now);
  // How long until `tokens` (at most capacity()) are there (zero when they are now).
  Clock::duration wait_for(uint64_t tokens, Clock::time_point now);

 private:
  void refill(Clock::time_point now);

  TokenBucketConfig config_;
  uint64_t budget_;
  uint64_t burst_;
  uint64_t carry_ = 0;  // time toward the next token, in units of 1/size ns (< the period)
  Clock::time_point last_refill_;
};

struct RateLimiterConfig {
  std::optional<TokenBucketConfig> bandwidth;
  std::optional<TokenBucketConfig> ops;
  bool limits() const { return (bandwidth && bandwidth->limits()) || (ops && ops->limits()); }
  bool operator==(const RateLimiterConfig&) const = default;
};

class RateLimiter {
 public:
  using Clock = TokenBucket::Clock;

  explicit RateLimiter(const RateLimiterConfig& config, Clock::time_point now = Clock::now());

  // One operation of `want` bytes, as Firecracker's limiter takes it: granted whole when both
  // buckets hold enough (a request bigger than the bandwidth bucket can ever hold gets what a
  // full bucket holds), else nothing is taken. Returns the bytes granted, 0 for none.
  uint64_t grant(uint64_t want, Clock::time_point now = Clock::now());
  // After a grant of `want` failed: how long until it would succeed.
  Clock::duration wait(uint64_t want, Clock::time_point now = Clock::now());

 private:
  TokenBucket bandwidth_;
  TokenBucket ops_;
};

}  // namespace vessel
