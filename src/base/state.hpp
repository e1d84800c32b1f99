// Byte-stream serialisation for device and hart state (save/restore, later snapshots).
// The reader checks every length: a snapshot file is untrusted input.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/result.hpp"

namespace vessel {

class StateWriter {
 public:
  template <typename T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    append(&v, sizeof v);
  }
  void put_bytes(const void* data, size_t len) {
    put<uint64_t>(len);
    append(data, len);
  }
  // A section tag lets restore detect a stream written for another device.
  void begin(std::string_view tag) { put_bytes(tag.data(), tag.size()); }
  const std::vector<uint8_t>& bytes() const { return buf_; }

 private:
  // resize and copy rather than insert: GCC 12 sees an insert into a vector that may be
  // empty as an overflow (-Wstringop-overflow) once it is inlined.
  void append(const void* data, size_t len) {
    if (len == 0) return;
    const size_t at = buf_.size();
    buf_.resize(at + len);
    std::memcpy(buf_.data() + at, data, len);
  }
  std::vector<uint8_t> buf_;
};

class StateReader {
 public:
  StateReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  explicit StateReader(const std::vector<uint8_t>& v) : StateReader(v.data(), v.size()) {}

  template <typename T>
  Result<T> get() {
    static_assert(std::is_trivially_copyable_v<T>);
    if (size_ - pos_ < sizeof(T)) return make_error("state: truncated");
    T v;
    std::memcpy(&v, data_ + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  Result<std::vector<uint8_t>> get_bytes(size_t max_len) {
    const uint64_t len = TRY(get<uint64_t>());
    if (len > max_len || size_ - pos_ < len) return make_error("state: bad length");
    std::vector<uint8_t> out(data_ + pos_, data_ + pos_ + len);
    pos_ += len;
    return out;
  }
  Result<void> expect(std::string_view tag) {
    auto got = TRY(get_bytes(256));
    if (std::string_view(reinterpret_cast<const char*>(got.data()), got.size()) != tag)
      return make_error("state: expected section '" + std::string(tag) + "'");
    return {};
  }
  bool at_end() const { return pos_ == size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace vessel
