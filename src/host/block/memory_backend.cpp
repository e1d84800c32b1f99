#include "host/block/memory_backend.hpp"

#include <cerrno>
#include <cstring>

namespace vessel::block {

void MemoryBackend::complete(std::function<int()> op, Completion done) {
  auto run = [this, op = std::move(op), done = std::move(done)] {
    int err = 0;
    if (fail_count_ > 0) {
      --fail_count_;
      err = fail_err_;
    } else {
      err = op();
    }
    done(err);
  };
  if (hold_) {
    queued_.push_back(std::move(run));
    return;
  }
  if (!async_ || loop_ == nullptr) return run();
  queued_.push_back(std::move(run));
  loop_->post([this] {
    if (queued_.empty()) return;  // drain() ran it already
    auto next = std::move(queued_.front());
    queued_.pop_front();
    next();
  });
}

void MemoryBackend::read(uint64_t offset, std::vector<iovec> iov, Completion done) {
  uint64_t len = 0;
  for (const auto& v : iov) len += v.iov_len;
  if (!in_range(offset, len)) return done(-EINVAL);
  ++counts_.reads;
  complete(
      [this, offset, iov = std::move(iov)] {
        uint64_t at = offset;
        for (const auto& v : iov) {
          std::memcpy(v.iov_base, data_.data() + at, v.iov_len);
          at += v.iov_len;
        }
        return 0;
      },
      std::move(done));
}

void MemoryBackend::write(uint64_t offset, std::vector<iovec> iov, Completion done) {
  uint64_t len = 0;
  for (const auto& v : iov) len += v.iov_len;
  if (!in_range(offset, len)) return done(-EINVAL);
  if (read_only_) return done(-EROFS);
  ++counts_.writes;
  complete(
      [this, offset, iov = std::move(iov)] {
        uint64_t at = offset;
        for (const auto& v : iov) {
          std::memcpy(data_.data() + at, v.iov_base, v.iov_len);
          at += v.iov_len;
        }
        return 0;
      },
      std::move(done));
}

void MemoryBackend::flush(Completion done) {
  ++counts_.flushes;
  complete([] { return 0; }, std::move(done));
}

void MemoryBackend::discard(uint64_t offset, uint64_t len, Completion done) {
  if (!in_range(offset, len)) return done(-EINVAL);
  if (read_only_) return done(-EROFS);
  ++counts_.discards;
  complete(
      [this, offset, len] {
        // Discarded data reads back as a pattern, so tests can tell it from write-zeroes.
        std::memset(data_.data() + offset, 0xdd, len);
        return 0;
      },
      std::move(done));
}

void MemoryBackend::write_zeroes(uint64_t offset, uint64_t len, bool, Completion done) {
  if (!in_range(offset, len)) return done(-EINVAL);
  if (read_only_) return done(-EROFS);
  ++counts_.write_zeroes;
  complete(
      [this, offset, len] {
        std::memset(data_.data() + offset, 0, len);
        return 0;
      },
      std::move(done));
}

void MemoryBackend::drain() {
  while (!queued_.empty()) {
    auto next = std::move(queued_.front());
    queued_.pop_front();
    next();
  }
}

}  // namespace vessel::block
