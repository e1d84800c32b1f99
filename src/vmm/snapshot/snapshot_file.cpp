#include "vmm/snapshot/snapshot_file.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace vessel::snapshot {

namespace {

constexpr size_t kNameBytes = 16;
constexpr size_t kHeaderBytes = sizeof kMagic + 4 + 4;          // magic, version, count
constexpr size_t kSectionHeaderBytes = kNameBytes + 8 + 4 + 4;  // name, length, crc, 0
constexpr uint32_t kMaxSections = 16;

template <typename T>
size_t put_at(std::vector<uint8_t>& out, size_t pos, T v) {
  std::memcpy(out.data() + pos, &v, sizeof v);
  return pos + sizeof v;
}

template <typename T>
T get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

uint32_t crc32_of(const uint8_t* data, size_t size, uint32_t crc_so_far) {
  uLong crc = crc_so_far;
  // zlib takes uInt lengths: feed it in pieces that fit.
  while (size > 0) {
    const auto n = static_cast<uInt>(std::min<size_t>(size, 1U << 30));
    crc = crc32(crc, data, n);
    data += n;
    size -= n;
  }
  return static_cast<uint32_t>(crc);
}

std::vector<uint8_t> encode_file(const std::vector<Section>& sections) {
  // Sized first and filled in place (growing a vector byte by byte trips GCC 12's
  // -Wstringop-overflow).
  size_t total = kHeaderBytes;
  for (const Section& s : sections) total += kSectionHeaderBytes + s.data.size();
  std::vector<uint8_t> out(total);
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  size_t pos = put_at<uint32_t>(out, sizeof kMagic, kFormatVersion);
  pos = put_at<uint32_t>(out, pos, static_cast<uint32_t>(sections.size()));
  for (const Section& s : sections) {
    std::memcpy(out.data() + pos, s.name.data(), std::min(s.name.size(), kNameBytes - 1));
    pos = put_at<uint64_t>(out, pos + kNameBytes, s.data.size());
    pos = put_at<uint32_t>(out, pos, crc32_of(s.data.data(), s.data.size()));
    pos = put_at<uint32_t>(out, pos, 0);
    if (!s.data.empty()) std::memcpy(out.data() + pos, s.data.data(), s.data.size());
    pos += s.data.size();
  }
  return out;
}

Result<std::vector<Section>> decode_file(const uint8_t* data, size_t size,
                                         const std::vector<std::string_view>& expected) {
  if (size < kHeaderBytes || std::memcmp(data, kMagic, sizeof kMagic) != 0) {
    return make_error("not a Vessel snapshot (no VESSELSN header)");
  }
  const auto version = get<uint32_t>(data + 8);
  if (version != kFormatVersion) {
    return make_error(fmt::format("snapshot format version {}, this Vessel reads version {}",
                                  version, kFormatVersion));
  }
  const auto count = get<uint32_t>(data + 12);
  if (count != expected.size() || count > kMaxSections) {
    return make_error(fmt::format("snapshot has {} sections, expected {}", count, expected.size()));
  }
  std::vector<Section> sections;
  size_t pos = kHeaderBytes;
  for (std::string_view want : expected) {
    if (size - pos < kSectionHeaderBytes) {
      return make_error(fmt::format("snapshot is truncated (in section '{}')", want));
    }
    const char* name = reinterpret_cast<const char*>(data + pos);
    const size_t name_len = strnlen(name, kNameBytes);
    // The name's padding is zeros too: no byte of the file goes unchecked.
    if (std::string_view(name, name_len) != want || name_len == kNameBytes ||
        std::any_of(name + name_len, name + kNameBytes, [](char c) { return c != 0; })) {
      return make_error(fmt::format("snapshot: expected section '{}'", want));
    }
    const auto len = get<uint64_t>(data + pos + kNameBytes);
    const auto crc = get<uint32_t>(data + pos + kNameBytes + 8);
    const auto zero = get<uint32_t>(data + pos + kNameBytes + 12);
    pos += kSectionHeaderBytes;
    if (len > size - pos) {
      return make_error(fmt::format("snapshot is truncated (section '{}')", want));
    }
    if (zero != 0 || crc32_of(data + pos, len) != crc) {
      return make_error(fmt::format("snapshot is corrupt: section '{}' fails its checksum", want));
    }
    sections.push_back({std::string(want), std::vector<uint8_t>(data + pos, data + pos + len)});
    pos += len;
  }
  if (pos != size) return make_error("snapshot has trailing bytes after its last section");
  return sections;
}

}  // namespace vessel::snapshot
