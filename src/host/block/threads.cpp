// The thread-pool engine (used when io_uring is unavailable), the synchronous operations it
// runs, and helpers shared by the engines and backends.
#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "base/log.hpp"
#include "base/thread_role.hpp"
#include "host/block/block_backend.hpp"
#include "host/block/io_engine.hpp"

namespace vessel::block {

uint64_t iov_bytes(const std::vector<iovec>& iov) {
  uint64_t n = 0;
  for (const auto& v : iov) n += v.iov_len;
  return n;
}

void advance_iov(std::vector<iovec>& iov, uint64_t done) {
  size_t first = 0;
  while (first < iov.size() && (done >= iov[first].iov_len)) {
    done -= iov[first].iov_len;
    ++first;
  }
  iov.erase(iov.begin(), iov.begin() + static_cast<ptrdiff_t>(first));
  if (!iov.empty() && done != 0) {
    iov[0].iov_base = static_cast<uint8_t*>(iov[0].iov_base) + done;
    iov[0].iov_len -= done;
  }
}

std::vector<iovec> slice_iov(const std::vector<iovec>& iov, uint64_t start, uint64_t len) {
  std::vector<iovec> out;
  uint64_t pos = 0;
  for (const auto& v : iov) {
    if (len == 0) break;
    const uint64_t end = pos + v.iov_len;
    if (end > start) {
      const uint64_t skip = start > pos ? start - pos : 0;
      const uint64_t take = std::min<uint64_t>(v.iov_len - skip, len);
      out.push_back({static_cast<uint8_t*>(v.iov_base) + skip, take});
      len -= take;
      start += take;
    }
    pos = end;
  }
  return out;
}

int64_t run_op_sync(IoOp& op) {
  switch (op.kind) {
    case IoOp::Kind::kRead:
    case IoOp::Kind::kWrite: {
      const bool reading = op.kind == IoOp::Kind::kRead;
      std::vector<iovec> iov = op.iov;
      uint64_t offset = op.offset;
      uint64_t total = 0;
      advance_iov(iov, 0);
      while (iov_bytes(iov) != 0) {
        const int count = static_cast<int>(std::min<size_t>(iov.size(), IOV_MAX));
        const ssize_t n = reading ? preadv(op.fd, iov.data(), count, static_cast<off_t>(offset))
                                  : pwritev(op.fd, iov.data(), count, static_cast<off_t>(offset));
        if (n < 0) {
          if (errno == EINTR || errno == EAGAIN) continue;
          return -errno;
        }
        if (n == 0) return -EIO;  // end of file inside a read, or a write making no progress
        total += static_cast<uint64_t>(n);
        offset += static_cast<uint64_t>(n);
        advance_iov(iov, static_cast<uint64_t>(n));
      }
      return static_cast<int64_t>(total);
    }
    case IoOp::Kind::kDatasync:
      while (fdatasync(op.fd) != 0) {
        if (errno != EINTR) return -errno;
      }
      return 0;
    case IoOp::Kind::kFallocate:
      while (fallocate(op.fd, op.mode, static_cast<off_t>(op.offset), static_cast<off_t>(op.len)) !=
             0) {
        if (errno != EINTR) return -errno;
      }
      return 0;
  }
  return -EINVAL;
}

namespace {

// One shared page-multiple of zeros for the write-zeroes fallback.
constexpr uint64_t kZeroChunk = 64 * 1024;
constexpr unsigned kZeroIovs = 16;  // up to 1 MiB per write
alignas(4096) const uint8_t kZeros[kZeroChunk] = {};

void write_zero_chunk(IoEngine& engine, int fd, uint64_t offset, uint64_t len,
                      std::shared_ptr<std::function<void(int)>> done) {
  if (len == 0) {
    (*done)(0);
    return;
  }
  IoOp op;
  op.kind = IoOp::Kind::kWrite;
  op.fd = fd;
  op.offset = offset;
  uint64_t chunk = 0;
  while (chunk < len && op.iov.size() < kZeroIovs) {
    const uint64_t n = std::min(kZeroChunk, len - chunk);
    // pwritev only reads through iov_base; the buffer stays const in fact.
    op.iov.push_back({const_cast<uint8_t*>(kZeros), n});
    chunk += n;
  }
  engine.submit(std::move(op), [&engine, fd, offset, len, chunk, done](int64_t res) {
    if (res < 0) {
      (*done)(static_cast<int>(res));
      return;
    }
    write_zero_chunk(engine, fd, offset + chunk, len - chunk, done);
  });
}

}  // namespace

CompletionEventfd::CompletionEventfd() {
  fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd_ < 0) error_ = errno;
}

CompletionEventfd::~CompletionEventfd() {
  unwatch();
  if (fd_ >= 0) close(fd_);
}

Result<void> CompletionEventfd::watch(EventLoop& loop, std::function<void()> reap) {
  TRY_VOID(loop.add_fd(fd_, EPOLLIN, [this, reap = std::move(reap)](uint32_t) {
    uint64_t count;
    [[maybe_unused]] const ssize_t n = ::read(fd_, &count, sizeof count);
    reap();
  }));
  loop_ = &loop;
  return {};
}

void CompletionEventfd::unwatch() {
  if (loop_ != nullptr) loop_->remove_fd(fd_);
  loop_ = nullptr;
}

void CompletionEventfd::signal() const {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
}

namespace {

class ThreadEngine final : public IoEngine {
 public:
  explicit ThreadEngine(unsigned threads) {
    const unsigned n = std::max(1U, threads);
    for (unsigned i = 0; i < n; ++i) {
      workers_.emplace_back([this] {
        pthread_setname_np(pthread_self(), "vessel-blk");
        enter_thread_role(ThreadRole::kBlockWorker);
        work();
      });
    }
  }
  ~ThreadEngine() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    // Jobs not yet started are dropped; the ones running finish before join returns, so no
    // thread touches a caller's buffer afterwards.
    for (auto& t : workers_) t.join();
  }

  const char* name() const override { return "threads"; }

  Result<void> attach(EventLoop& loop) override {
    if (efd_.fd() < 0) {
      return make_error(std::string("block I/O threads: eventfd: ") + strerror(efd_.error()));
    }
    return efd_.watch(loop, [this] { reap(); });
  }
  void detach() override { efd_.unwatch(); }

  void submit(IoOp op, IoDone done) override {
    ++in_flight_;
    auto job = std::make_unique<Job>();
    job->op = std::move(op);
    job->done = std::move(done);
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(job));
    }
    work_cv_.notify_one();
  }

  void drain() override {
    while (in_flight_ > 0) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        done_cv_.wait(lock, [this] { return !finished_.empty(); });
      }
      reap();
    }
  }
  size_t in_flight() const override { return in_flight_; }

 private:
  struct Job {
    IoOp op;
    IoDone done;
    int64_t result = 0;
  };

  void work() {
    for (;;) {
      std::unique_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job->result = run_op_sync(job->op);
      {
        std::lock_guard<std::mutex> lock(mu_);
        finished_.push_back(std::move(job));
      }
      done_cv_.notify_all();
      efd_.signal();
    }
  }

  void reap() {
    std::deque<std::unique_ptr<Job>> batch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch.swap(finished_);
    }
    for (auto& job : batch) {
      --in_flight_;
      IoDone done = std::move(job->done);
      const int64_t result = job->result;
      job.reset();
      done(result);
    }
  }

  CompletionEventfd efd_;
  size_t in_flight_ = 0;  // loop thread
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<std::unique_ptr<Job>> queue_, finished_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace

void write_zero_bytes(IoEngine& engine, int fd, uint64_t offset, uint64_t len,
                      std::function<void(int)> done) {
  write_zero_chunk(engine, fd, offset, len,
                   std::make_shared<std::function<void(int)>>(std::move(done)));
}

namespace {

void submit_fallocate(IoEngine& engine, int fd, int mode, uint64_t offset, uint64_t len,
                      IoDone done) {
  IoOp op;
  op.kind = IoOp::Kind::kFallocate;
  op.fd = fd;
  op.mode = mode;
  op.offset = offset;
  op.len = len;
  engine.submit(std::move(op), std::move(done));
}

}  // namespace

void zero_file_range(IoEngine& engine, int fd, uint64_t offset, uint64_t len, bool may_unmap,
                     ZeroCaps& caps, std::function<void(int)> done) {
  if (len == 0) {
    done(0);
    return;
  }
  if (may_unmap && caps.punch_hole) {
    submit_fallocate(engine, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len,
                     [&engine, fd, offset, len, &caps, done](int64_t res) mutable {
                       if (!unsupported(res)) {
                         done(static_cast<int>(res));
                         return;
                       }
                       caps.punch_hole = false;
                       zero_file_range(engine, fd, offset, len, false, caps, std::move(done));
                     });
    return;
  }
  if (caps.zero_range) {
    submit_fallocate(engine, fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, offset, len,
                     [&engine, fd, offset, len, &caps, done](int64_t res) mutable {
                       if (!unsupported(res)) {
                         done(static_cast<int>(res));
                         return;
                       }
                       caps.zero_range = false;
                       zero_file_range(engine, fd, offset, len, false, caps, std::move(done));
                     });
    return;
  }
  write_zero_bytes(engine, fd, offset, len, std::move(done));
}

void punch_file_range(IoEngine& engine, int fd, uint64_t offset, uint64_t len, ZeroCaps& caps,
                      std::function<void(int)> done) {
  if (len == 0 || !caps.punch_hole) {
    done(0);
    return;
  }
  submit_fallocate(engine, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len,
                   [&caps, done](int64_t res) {
                     if (unsupported(res)) {
                       caps.punch_hole = false;
                       res = 0;
                     }
                     done(static_cast<int>(res));
                   });
}

std::unique_ptr<IoEngine> make_thread_engine(unsigned threads) {
  return std::make_unique<ThreadEngine>(threads);
}

Result<std::unique_ptr<IoEngine>> make_engine(const OpenOptions& options) {
  if (options.io == IoMode::kThreads) return make_thread_engine(options.threads);
  auto uring = make_uring_engine(options.uring_entries);
  if (uring.ok()) return std::move(uring).value();
  if (options.io == IoMode::kUring) return uring.take_error();
  log(LogLevel::kInfo, "{}; using I/O threads", uring.error().message);
  return make_thread_engine(options.threads);
}

}  // namespace vessel::block
