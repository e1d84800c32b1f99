#include "host/block/image_format.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vessel::block {

namespace {

struct Magic {
  std::string_view name;
  size_t offset;
  std::string_view bytes;
};

// From each format's specification (qemu's docs/interop and block drivers): the signature and
// where it sits. VDI's is a little-endian 0xbeda107f after its 64-byte text banner.
constexpr Magic kMagics[] = {
    {"QED", 0, std::string_view("QED\0", 4)},
    {"VMDK", 0, "KDMV"},
    {"VHDX", 0, "vhdxfile"},
    {"VHD", 0, "conectix"},
    {"VDI", 0x40, "\x7f\x10\xda\xbe"},
};

}  // namespace

std::optional<std::string_view> detect_image_format(std::string_view head) {
  if (head.size() >= 8 && head.substr(0, 4) == "QFI\xfb") {
    // The version is a big-endian word after the magic: 1 is the original qcow.
    return head.substr(4, 4) == std::string_view("\0\0\0\1", 4) ? "qcow" : "qcow2";
  }
  for (const Magic& m : kMagics) {
    if (head.size() >= m.offset + m.bytes.size() &&
        head.substr(m.offset, m.bytes.size()) == m.bytes) {
      return m.name;
    }
  }
  return std::nullopt;
}

Result<void> check_raw_image(int fd, const std::string& path, std::string_view stated) {
  char head[512];
  ssize_t n;
  do { n = pread(fd, head, sizeof head, 0); } while (n < 0 && errno == EINTR);
  if (n < 0) return make_error(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  const auto format = detect_image_format(std::string_view(head, static_cast<size_t>(n)));
  if (!format) return {};
  return make_error(fmt::format(
      "{}: a {} image, not a raw one; convert it (qemu-img convert -O raw) or add {} to give the "
      "guest its bytes as they are",
      path, *format, stated));
}

}  // namespace vessel::block
