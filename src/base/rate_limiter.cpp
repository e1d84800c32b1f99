#include "base/rate_limiter.hpp"

#include <algorithm>
#include <limits>

namespace vessel {

namespace {

using u128 = unsigned __int128;
constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

uint64_t refill_ns(const TokenBucketConfig& c) {
  // Milliseconds to nanoseconds, saturating: refill_time_ms comes from a client.
  const u128 ns = u128{c.refill_time_ms} * 1'000'000u;
  return ns > kUnlimited ? kUnlimited : static_cast<uint64_t>(ns);
}

}  // namespace

TokenBucket::TokenBucket(const TokenBucketConfig& config, Clock::time_point now)
    : config_(config),
      budget_(config.size),
      burst_(config.limits() ? config.one_time_burst : 0),
      last_refill_(now) {}

void TokenBucket::refill(Clock::time_point now) {
  if (!config_.limits() || now <= last_refill_) return;
  const auto elapsed = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_refill_).count());
  last_refill_ = now;
  if (budget_ >= config_.size) {
    carry_ = 0;
    return;
  }
  // size tokens per period: in units of 1/period token, what has passed plus what was left
  // over last time (so that asking often loses nothing). 128 bits hold any 64-bit product.
  const u128 period = refill_ns(config_);
  const u128 total = u128{elapsed} * config_.size + carry_;
  const u128 earned = total / period;
  if (earned >= config_.size - budget_) {
    budget_ = config_.size;
    carry_ = 0;
    return;
  }
  budget_ += static_cast<uint64_t>(earned);
  carry_ = static_cast<uint64_t>(total % period);
}

uint64_t TokenBucket::available(Clock::time_point now) {
  if (!config_.limits()) return kUnlimited;
  refill(now);
  return budget_ + std::min(burst_, kUnlimited - budget_);
}

void TokenBucket::take(uint64_t tokens, Clock::time_point now) {
  if (!config_.limits()) return;
  refill(now);
  const uint64_t from_burst = std::min(tokens, burst_);
  burst_ -= from_burst;
  budget_ -= std::min(tokens - from_burst, budget_);
}

uint64_t TokenBucket::capacity() const {
  if (!config_.limits()) return kUnlimited;
  return config_.size + std::min(burst_, kUnlimited - config_.size);
}

TokenBucket::Clock::duration TokenBucket::wait_for(uint64_t tokens, Clock::time_point now) {
  const uint64_t have = available(now);
  if (have >= tokens) return Clock::duration::zero();
  // Each token is `period` units of 1/size ns; carry_ of them have passed already.
  const u128 period = refill_ns(config_);
  const u128 units = u128{tokens - have} * period - carry_;
  const u128 left = (units + config_.size - 1) / config_.size;
  const u128 cap = static_cast<u128>(std::numeric_limits<int64_t>::max());
  return std::chrono::nanoseconds(static_cast<int64_t>(std::max<u128>(1, std::min(left, cap))));
}

RateLimiter::RateLimiter(const RateLimiterConfig& config, Clock::time_point now)
    : bandwidth_(config.bandwidth.value_or(TokenBucketConfig{}), now),
      ops_(config.ops.value_or(TokenBucketConfig{}), now) {}

uint64_t RateLimiter::grant(uint64_t want, Clock::time_point now) {
  const uint64_t bytes = std::min(want, bandwidth_.capacity());
  if (bytes == 0 || ops_.available(now) == 0 || bandwidth_.available(now) < bytes) return 0;
  ops_.take(1, now);
  bandwidth_.take(bytes, now);
  return bytes;
}

RateLimiter::Clock::duration RateLimiter::wait(uint64_t want, Clock::time_point now) {
  return std::max(ops_.wait_for(1, now),
                  bandwidth_.wait_for(std::min(want, bandwidth_.capacity()), now));
}

}  // namespace vessel
