// Random bytes from the kernel's CSPRNG (getrandom(2)), for tokens, seeds and virtio-rng.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/result.hpp"

namespace vessel {

// Fills buf; returns how many bytes it produced, fewer than len only when getrandom fails
// outright (a seccomp filter, a kernel without it): it returns short counts for requests over
// 256 bytes or when a signal arrives, which are tried again, and blocks only before the pool is
// seeded at boot.
size_t fill_random(uint8_t* buf, size_t len);

// `bytes` random bytes as lowercase hex (tokens and tickets), or why there are none.
Result<std::string> random_hex(size_t bytes);

}  // namespace vessel
