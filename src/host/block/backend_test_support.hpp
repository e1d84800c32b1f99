// For tests: a backend driven from a real EventLoop thread, as the VM drives it, with calls
// that submit there and wait for the completion.
#pragma once

#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/event_loop.hpp"
#include "host/block/block_backend.hpp"

namespace vessel::block::testing {

using Bytes = std::vector<uint8_t>;

// `len` bytes that differ with `seed`.
inline Bytes pattern(size_t len, uint32_t seed) {
  Bytes b(len);
  std::mt19937 rng(seed);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

inline void write_file(const std::string& path, const Bytes& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

inline Bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

class LoopDisk {
 public:
  LoopDisk(EventLoop& loop, std::unique_ptr<BlockBackend>& disk) : loop_(loop), disk_(disk) {}

  // Submits on the loop thread and waits for the completion's error (0 or -errno).
  template <typename Submit>
  int run(Submit submit) {
    std::promise<int> p;
    auto f = p.get_future();
    loop_.post([&] { submit([&p](int err) { p.set_value(err); }); });
    return f.get();
  }
  int read(uint64_t offset, Bytes& out) {
    return run([&](Completion done) {
      disk_->read(offset, {{out.data(), out.size()}}, std::move(done));
    });
  }
  int write(uint64_t offset, Bytes data) {
    return run([&](Completion done) {
      disk_->write(offset, {{data.data(), data.size()}}, std::move(done));
    });
  }
  int flush() {
    return run([&](Completion done) { disk_->flush(std::move(done)); });
  }
  int discard(uint64_t offset, uint64_t len) {
    return run([&](Completion done) { disk_->discard(offset, len, std::move(done)); });
  }
  int zeroes(uint64_t offset, uint64_t len, bool unmap) {
    return run([&](Completion done) { disk_->write_zeroes(offset, len, unmap, std::move(done)); });
  }
  // Drains and detaches on the loop thread, then drops the backend.
  void close() {
    if (!disk_) return;
    std::promise<void> p;
    loop_.post([&] {
      disk_->drain();
      disk_->detach();
      p.set_value();
    });
    p.get_future().wait();
    disk_.reset();
  }

 private:
  EventLoop& loop_;
  std::unique_ptr<BlockBackend>& disk_;
};

}  // namespace vessel::block::testing
