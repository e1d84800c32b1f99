#include "host/block/raw_file.hpp"

#include <cerrno>

#include "base/log.hpp"

namespace vessel::block {

RawFileBackend::RawFileBackend(UniqueFd fd, std::string path, uint64_t size, bool read_only,
                               uint32_t discard_granularity, std::unique_ptr<IoEngine> engine)
    : fd_(std::move(fd)),
      path_(std::move(path)),
      size_(size),
      read_only_(read_only),
      granularity_(discard_granularity),
      engine_(std::move(engine)) {}

// The engine goes first: it waits for the kernel to finish with the fd and the buffers.
RawFileBackend::~RawFileBackend() { engine_.reset(); }

std::string RawFileBackend::describe() const {
  return path_ + " (raw" + (read_only_ ? ", read-only, " : ", ") + engine_->name() + ")";
}

std::function<void(int)> RawFileBackend::track(Completion done) {
  ++in_flight_;
  return [this, done = std::move(done)](int err) {
    --in_flight_;
    done(err);
  };
}

void RawFileBackend::transfer(IoOp::Kind kind, uint64_t offset, std::vector<iovec> iov,
                              Completion done) {
  const uint64_t len = iov_bytes(iov);
  if (!in_range(offset, len)) return done(-EINVAL);
  if (kind == IoOp::Kind::kWrite && read_only_) return done(-EROFS);
  if (len == 0) return done(0);
  IoOp op;
  op.kind = kind;
  op.fd = fd_.get();
  op.offset = offset;
  op.iov = std::move(iov);
  engine_->submit(std::move(op), [finish = track(std::move(done))](int64_t res) {
    finish(res < 0 ? static_cast<int>(res) : 0);
  });
}

void RawFileBackend::read(uint64_t offset, std::vector<iovec> iov, Completion done) {
  transfer(IoOp::Kind::kRead, offset, std::move(iov), std::move(done));
}

void RawFileBackend::write(uint64_t offset, std::vector<iovec> iov, Completion done) {
  transfer(IoOp::Kind::kWrite, offset, std::move(iov), std::move(done));
}

void RawFileBackend::flush(Completion done) {
  // Nothing was written through a read-only descriptor.
  if (read_only_) return done(0);
  IoOp op;
  op.kind = IoOp::Kind::kDatasync;
  op.fd = fd_.get();
  engine_->submit(std::move(op), [finish = track(std::move(done))](int64_t res) {
    finish(res < 0 ? static_cast<int>(res) : 0);
  });
}

void RawFileBackend::discard(uint64_t offset, uint64_t len, Completion done) {
  if (!in_range(offset, len)) return done(-EINVAL);
  if (read_only_) return done(-EROFS);
  punch_file_range(*engine_, fd_.get(), offset, len, caps_, track(std::move(done)));
}

void RawFileBackend::write_zeroes(uint64_t offset, uint64_t len, bool may_unmap, Completion done) {
  if (!in_range(offset, len)) return done(-EINVAL);
  if (read_only_) return done(-EROFS);
  zero_file_range(*engine_, fd_.get(), offset, len, may_unmap, caps_, track(std::move(done)));
}

void RawFileBackend::drain() {
  while (in_flight_ > 0) {
    if (engine_->in_flight() == 0) {
      static LogLimiter limiter;  // at every reboot of a guest that reboots in a loop
      log_limited(limiter, LogLevel::kError, "{}: {} requests lost", path_, in_flight_);
      break;
    }
    engine_->drain();
  }
}

}  // namespace vessel::block
