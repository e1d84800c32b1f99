// The io_uring engine: one ring per disk, its completion eventfd watched by the EventLoop.
// Operations beyond the ring's capacity wait in a backlog; short reads and writes are
// resubmitted for the rest; -EAGAIN/-EINTR are retried.
#include <fcntl.h>
#include <liburing.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>

#include "base/log.hpp"
#include "host/block/io_engine.hpp"

namespace vessel::block {

namespace {

class UringEngine final : public IoEngine {
 public:
  ~UringEngine() override {
    efd_.unwatch();
    if (ring_ok_) {
      // The kernel may still be writing into callers' buffers: wait for every completion
      // (dropping the callbacks) before the ring goes away.
      flush_sq();
      while (in_ring_ > 0) {
        io_uring_cqe* cqe = nullptr;
        const int r = io_uring_wait_cqe(&ring_, &cqe);
        if (r == -EINTR) continue;
        if (r < 0) break;
        delete static_cast<Pending*>(io_uring_cqe_get_data(cqe));
        io_uring_cqe_seen(&ring_, cqe);
        --in_ring_;
      }
      for (Pending* p : backlog_) delete p;
      for (auto& [p, r] : ready_) delete p;
      io_uring_queue_exit(&ring_);
    }
  }

  Result<void> init(unsigned entries) {
    entries = std::clamp(entries, 4U, 4096U);
    const int r = io_uring_queue_init(entries, &ring_, 0);
    if (r < 0) return make_error(std::string("io_uring unavailable: ") + strerror(-r));
    ring_ok_ = true;
    capacity_ = entries;
    io_uring_probe* probe = io_uring_get_probe_ring(&ring_);
    if (probe != nullptr) {
      const bool basic = io_uring_opcode_supported(probe, IORING_OP_READV) &&
                         io_uring_opcode_supported(probe, IORING_OP_WRITEV) &&
                         io_uring_opcode_supported(probe, IORING_OP_FSYNC);
      has_fallocate_ = io_uring_opcode_supported(probe, IORING_OP_FALLOCATE);
      io_uring_free_probe(probe);
      if (!basic) return make_error("io_uring unavailable: no readv/writev/fsync support");
    }
    if (efd_.fd() < 0)
      return make_error(std::string("io_uring: eventfd: ") + strerror(efd_.error()));
    const int rr = io_uring_register_eventfd(&ring_, efd_.fd());
    if (rr < 0) return make_error(std::string("io_uring: register eventfd: ") + strerror(-rr));
    return {};
  }

  const char* name() const override { return "io_uring"; }

  Result<void> attach(EventLoop& loop) override {
    return efd_.watch(loop, [this] { reap(); });
  }
  void detach() override { efd_.unwatch(); }

  void submit(IoOp op, IoDone done) override {
    ++in_flight_;
    auto* p = new Pending{std::move(op), std::move(done), 0};
    if (p->op.kind == IoOp::Kind::kFallocate && !has_fallocate_) {
      // Old kernels: fallocate is quick metadata work, run it here and complete it from the
      // eventfd handler like the rest.
      const int64_t r = run_op_sync(p->op);
      ready_.emplace_back(p, r);
      efd_.signal();
      return;
    }
    enqueue(p);
    flush_sq();
  }

  void drain() override {
    while (in_flight_ > 0) {
      reap();
      if (in_flight_ == 0 || !ready_.empty()) continue;
      if (in_ring_ == 0) {
        // Only backlog left (cannot happen with a free ring, but be safe): push it.
        feed_backlog();
        if (in_ring_ == 0) break;
      }
      flush_sq();
      io_uring_cqe* cqe = nullptr;
      const int r = io_uring_wait_cqe(&ring_, &cqe);
      if (r < 0 && r != -EINTR && r != -EAGAIN) {
        log(LogLevel::kError, "io_uring: wait: {}", strerror(-r));
        break;
      }
    }
  }
  size_t in_flight() const override { return in_flight_; }

 private:
  struct Pending {
    IoOp op;
    IoDone done;
    uint64_t transferred;
  };

  void enqueue(Pending* p) {
    if (in_ring_ >= capacity_ || !prep(p)) backlog_.push_back(p);
  }

  bool prep(Pending* p) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {
      flush_sq();
      sqe = io_uring_get_sqe(&ring_);
      if (sqe == nullptr) return false;
    }
    IoOp& op = p->op;
    const unsigned count = static_cast<unsigned>(std::min<size_t>(op.iov.size(), IOV_MAX));
    switch (op.kind) {
      case IoOp::Kind::kRead:
        io_uring_prep_readv(sqe, op.fd, op.iov.data(), count, op.offset);
        break;
      case IoOp::Kind::kWrite:
        io_uring_prep_writev(sqe, op.fd, op.iov.data(), count, op.offset);
        break;
      case IoOp::Kind::kDatasync: io_uring_prep_fsync(sqe, op.fd, IORING_FSYNC_DATASYNC); break;
      case IoOp::Kind::kFallocate:
        io_uring_prep_fallocate(sqe, op.fd, op.mode, op.offset, op.len);
        break;
    }
    io_uring_sqe_set_data(sqe, p);
    ++in_ring_;
    return true;
  }

  void flush_sq() {
    // -EAGAIN/-EBUSY: the kernel is short of resources or the CQ is full; the SQEs stay
    // queued and go with the next submit (after reaping).
    while (io_uring_submit(&ring_) == -EINTR) {}
  }

  void feed_backlog() {
    while (!backlog_.empty() && in_ring_ < capacity_) {
      Pending* p = backlog_.front();
      if (!prep(p)) break;
      backlog_.pop_front();
    }
    flush_sq();
  }

  void reap() {
    for (;;) {
      io_uring_cqe* cqe = nullptr;
      if (io_uring_peek_cqe(&ring_, &cqe) != 0 || cqe == nullptr) break;
      auto* p = static_cast<Pending*>(io_uring_cqe_get_data(cqe));
      const int res = cqe->res;
      io_uring_cqe_seen(&ring_, cqe);
      --in_ring_;
      handle(p, res);
    }
    feed_backlog();
    while (!ready_.empty()) {
      auto [p, r] = ready_.front();
      ready_.pop_front();
      complete(p, r);
    }
  }

  void handle(Pending* p, int res) {
    if (res == -EAGAIN || res == -EINTR) {
      enqueue(p);
      return;
    }
    const bool transfer = p->op.kind == IoOp::Kind::kRead || p->op.kind == IoOp::Kind::kWrite;
    if (!transfer || res < 0) {
      complete(p, res < 0 ? res : 0);
      return;
    }
    const auto n = static_cast<uint64_t>(res);
    p->transferred += n;
    p->op.offset += n;
    advance_iov(p->op.iov, n);
    if (iov_bytes(p->op.iov) == 0) {
      complete(p, static_cast<int64_t>(p->transferred));
    } else if (n == 0) {
      complete(p, -EIO);  // end of file inside a read, or a write making no progress
    } else {
      enqueue(p);
    }
  }

  void complete(Pending* p, int64_t result) {
    --in_flight_;
    IoDone done = std::move(p->done);
    delete p;
    done(result);
  }

  io_uring ring_{};
  bool ring_ok_ = false;
  bool has_fallocate_ = false;
  unsigned capacity_ = 0;
  unsigned in_ring_ = 0;
  size_t in_flight_ = 0;
  CompletionEventfd efd_;
  std::deque<Pending*> backlog_;
  std::deque<std::pair<Pending*, int64_t>> ready_;
};

}  // namespace

Result<std::unique_ptr<IoEngine>> make_uring_engine(unsigned entries) {
  // For hosts where io_uring misbehaves, and for testing the fallback.
  if (const char* off = std::getenv("VESSEL_NO_IO_URING"); off != nullptr && *off != '\0') {
    return make_error("io_uring unavailable: disabled by VESSEL_NO_IO_URING");
  }
  auto engine = std::make_unique<UringEngine>();
  TRY_VOID(engine->init(entries));
  return std::unique_ptr<IoEngine>(std::move(engine));
}

}  // namespace vessel::block
