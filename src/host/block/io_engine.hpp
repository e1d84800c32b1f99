// The primitive file operations the block backends are built from, executed asynchronously
// by io_uring (uring.cpp) or by a thread pool (threads.cpp). Completions run on the loop
// thread, never inside submit().
#pragma once

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/event_loop.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace vessel::block {

struct IoOp {
  enum class Kind : uint8_t { kRead, kWrite, kDatasync, kFallocate };
  Kind kind = Kind::kRead;
  int fd = -1;
  uint64_t offset = 0;
  uint64_t len = 0;  // kFallocate only; reads and writes use the iovecs
  int mode = 0;      // kFallocate: FALLOC_FL_*
  std::vector<iovec> iov;
};

// Reads and writes complete whole: the result is the byte count transferred (short transfers
// are resumed; end of file before the end of a read is -EIO). Otherwise 0 or -errno.
using IoDone = std::function<void(int64_t result)>;

// The eventfd through which an engine's completions wake the VM's event loop: the workers
// (or, for io_uring, the kernel) signal it, and the loop drains it and runs the engine's reap.
class CompletionEventfd {
 public:
  CompletionEventfd();
  ~CompletionEventfd();
  CompletionEventfd(const CompletionEventfd&) = delete;
  CompletionEventfd& operator=(const CompletionEventfd&) = delete;

  int fd() const { return fd_; }
  // errno from creating it, 0 when it exists.
  int error() const { return error_; }
  Result<void> watch(EventLoop& loop, std::function<void()> reap);
  void unwatch();
  void signal() const;

 private:
  int fd_ = -1;
  int error_ = 0;
  EventLoop* loop_ = nullptr;
};

class IoEngine {
 public:
  virtual ~IoEngine() = default;
  virtual const char* name() const = 0;
  virtual Result<void> attach(EventLoop& loop) = 0;
  virtual void detach() = 0;
  // Loop thread (after attach).
  virtual void submit(IoOp op, IoDone done) = 0;
  // Loop thread: blocks until no operation is outstanding, running completions as they
  // arrive (including those of operations submitted by completions).
  virtual void drain() = 0;
  virtual size_t in_flight() const = 0;
};

// Fails when the kernel refuses io_uring (seccomp, containers, io_uring_disabled) or lacks
// the operations needed.
Result<std::unique_ptr<IoEngine>> make_uring_engine(unsigned entries);
std::unique_ptr<IoEngine> make_thread_engine(unsigned threads);

// The engine opts asks for, falling back from io_uring to threads under IoMode::kAuto.
struct OpenOptions;
Result<std::unique_ptr<IoEngine>> make_engine(const OpenOptions& options);

// Synchronous execution of one op (the thread pool's worker, and fallbacks): same result
// convention as IoDone.
int64_t run_op_sync(IoOp& op);

// Writes `len` zero bytes at `offset` in chunks (the fallback for write-zeroes when the file
// system has no FALLOC_FL_ZERO_RANGE). `done` gets 0 or -errno.
void write_zero_bytes(IoEngine& engine, int fd, uint64_t offset, uint64_t len,
                      std::function<void(int)> done);

// What the file system turned out to support for zeroing; starts optimistic and is lowered
// on EOPNOTSUPP so that later requests go straight to what works.
struct ZeroCaps {
  bool punch_hole = true;  // FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
  bool zero_range = true;  // FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE
};
// Makes [offset, offset+len) read as zeros: punch a hole (may_unmap), else zero the range,
// else write zero bytes. `done` gets 0 or -errno.
void zero_file_range(IoEngine& engine, int fd, uint64_t offset, uint64_t len, bool may_unmap,
                     ZeroCaps& caps, std::function<void(int)> done);
// Releases the space of [offset, offset+len) if the file system can (punch a hole); a file
// system that cannot is not an error.
void punch_file_range(IoEngine& engine, int fd, uint64_t offset, uint64_t len, ZeroCaps& caps,
                      std::function<void(int)> done);

// True for the errors meaning "this fallocate mode is not available here".
inline bool unsupported(int64_t err) { return err == -EOPNOTSUPP || err == -ENOSYS; }

// Consumes `done` bytes of an iovec list (for resuming short transfers).
void advance_iov(std::vector<iovec>& iov, uint64_t done);
uint64_t iov_bytes(const std::vector<iovec>& iov);
// The iovecs covering bytes [start, start+len) of the stream `iov` describes.
std::vector<iovec> slice_iov(const std::vector<iovec>& iov, uint64_t start, uint64_t len);

}  // namespace vessel::block
