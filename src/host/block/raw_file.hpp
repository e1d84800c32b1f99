// A raw disk image (or host block device): virtual sector n is file byte n * 512.
#pragma once

#include <memory>
#include <string>

#include "host/block/block_backend.hpp"
#include "host/block/io_engine.hpp"

namespace vessel::block {

class RawFileBackend final : public BlockBackend {
 public:
  RawFileBackend(UniqueFd fd, std::string path, uint64_t size, bool read_only,
                 uint32_t discard_granularity, std::unique_ptr<IoEngine> engine);
  ~RawFileBackend() override;

  uint64_t size() const override { return size_; }
  bool read_only() const override { return read_only_; }
  uint32_t discard_granularity() const override { return granularity_; }
  std::string describe() const override;

  Result<void> attach(EventLoop& loop) override { return engine_->attach(loop); }
  void detach() override { engine_->detach(); }

  void read(uint64_t offset, std::vector<iovec> iov, Completion done) override;
  void write(uint64_t offset, std::vector<iovec> iov, Completion done) override;
  void flush(Completion done) override;
  void discard(uint64_t offset, uint64_t len, Completion done) override;
  void write_zeroes(uint64_t offset, uint64_t len, bool may_unmap, Completion done) override;
  void drain() override;
  size_t in_flight() const override { return in_flight_; }

 private:
  bool in_range(uint64_t offset, uint64_t len) const {
    return offset <= size_ && len <= size_ - offset;
  }
  // Wraps `done` so that the request counts as in flight until it runs.
  std::function<void(int)> track(Completion done);
  void transfer(IoOp::Kind kind, uint64_t offset, std::vector<iovec> iov, Completion done);

  UniqueFd fd_;
  std::string path_;
  uint64_t size_;
  bool read_only_;
  uint32_t granularity_;
  std::unique_ptr<IoEngine> engine_;
  ZeroCaps caps_;
  size_t in_flight_ = 0;
};

}  // namespace vessel::block
