#include "base/random.hpp"

#include <fmt/format.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace vessel {

size_t fill_random(uint8_t* buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    const ssize_t n = getrandom(buf + done, len - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

Result<std::string> random_hex(size_t bytes) {
  std::vector<uint8_t> raw(bytes);
  if (fill_random(raw.data(), raw.size()) != raw.size()) {
    return make_error(fmt::format("no random bytes from getrandom: {}", std::strerror(errno)));
  }
  std::string out;
  out.reserve(bytes * 2);
  for (uint8_t b : raw) out += fmt::format("{:02x}", b);
  return out;
}

}  // namespace vessel
