// Random tokens: `bytes` bytes from the kernel's CSPRNG (getrandom), as lowercase hex.
#pragma once

#include <sys/random.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vessel {

inline std::string random_hex(size_t bytes) {
  std::vector<uint8_t> raw(bytes);
  size_t got = 0;
  while (got < raw.size()) {
    // Blocks only before the pool is initialised at boot; EINTR is tried again.
    const ssize_t n = getrandom(raw.data() + got, raw.size() - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (uint8_t b : raw) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

}  // namespace vessel
