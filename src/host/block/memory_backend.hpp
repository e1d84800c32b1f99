// A disk held in memory, for tests and the fuzzer: completes requests either inline or from
// a task posted to the loop, can be told to fail, and counts what reached it.
#pragma once

#include <deque>
#include <vector>

#include "host/block/block_backend.hpp"

namespace vessel::block {

class MemoryBackend final : public BlockBackend {
 public:
  struct Counts {
    unsigned reads = 0, writes = 0, flushes = 0, discards = 0, write_zeroes = 0;
  };

  MemoryBackend(uint64_t size, bool read_only = false, bool async = false)
      : data_(size, 0), read_only_(read_only), async_(async) {}

  std::vector<uint8_t>& data() { return data_; }
  const Counts& counts() const { return counts_; }
  // While held, completions wait for drain() (tests of what happens to requests in flight).
  void hold_completions(bool hold) { hold_ = hold; }
  // The next `count` requests (of any kind) fail with `err` (a negative errno).
  void fail_next(int err, unsigned count = 1) {
    fail_err_ = err;
    fail_count_ = count;
  }

  uint64_t size() const override { return data_.size(); }
  bool read_only() const override { return read_only_; }
  uint32_t discard_granularity() const override { return 4096; }
  std::string describe() const override { return "memory"; }
  Result<void> attach(EventLoop& loop) override {
    loop_ = &loop;
    return {};
  }
  void detach() override { loop_ = nullptr; }

  void read(uint64_t offset, std::vector<iovec> iov, Completion done) override;
  void write(uint64_t offset, std::vector<iovec> iov, Completion done) override;
  void flush(Completion done) override;
  void discard(uint64_t offset, uint64_t len, Completion done) override;
  void write_zeroes(uint64_t offset, uint64_t len, bool may_unmap, Completion done) override;
  void drain() override;
  size_t in_flight() const override { return queued_.size(); }

 private:
  bool in_range(uint64_t offset, uint64_t len) const {
    return offset <= data_.size() && len <= data_.size() - offset;
  }
  // Runs `op` (which returns 0 or -errno) now or later, then `done` with its result.
  void complete(std::function<int()> op, Completion done);

  std::vector<uint8_t> data_;
  bool read_only_;
  bool async_;
  bool hold_ = false;
  EventLoop* loop_ = nullptr;
  Counts counts_;
  int fail_err_ = 0;
  unsigned fail_count_ = 0;
  std::deque<std::function<void()>> queued_;
};

}  // namespace vessel::block
