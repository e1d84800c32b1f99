// Host storage behind a virtual disk: an asynchronous block backend driven from the VM's
// EventLoop thread. Requests name byte offsets and host iovecs; completions run on the loop
// thread. Backends: a raw image file or block device, and a copy-on-write overlay over a
// read-only base (docs/overlay.md). I/O goes through io_uring when the host allows it, else
// through a small thread pool doing preadv/pwritev.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/event_loop.hpp"
#include "base/result.hpp"

namespace vessel::block {

inline constexpr uint64_t kSectorSize = 512;

// 0 on success, else a negative errno (-EIO, -ENOSPC, ...).
using Completion = std::function<void(int error)>;

class BlockBackend {
 public:
  virtual ~BlockBackend() = default;

  // Virtual disk size in bytes (a multiple of kSectorSize).
  virtual uint64_t size() const = 0;
  virtual bool read_only() const = 0;
  // Granularity at which discard frees space, in bytes (a multiple of kSectorSize).
  virtual uint32_t discard_granularity() const = 0;
  // "disk.img (raw, io_uring)", for logs and stats.
  virtual std::string describe() const = 0;

  // Completions are delivered on `loop`'s thread from now on. Call once, before submitting.
  virtual Result<void> attach(EventLoop& loop) = 0;
  // Stop watching the loop's fds. Call on the loop thread (or with the loop stopped), after
  // drain().
  virtual void detach() = 0;

  // Submit on the loop thread. Ranges outside [0, size()) fail with -EINVAL; writes to a
  // read-only backend with -EROFS. The memory behind `iov` stays valid until `done` runs.
  // `done` may run before the call returns (immediate errors, zero-copy cases).
  virtual void read(uint64_t offset, std::vector<iovec> iov, Completion done) = 0;
  virtual void write(uint64_t offset, std::vector<iovec> iov, Completion done) = 0;
  // Makes every write completed before this call durable (fdatasync).
  virtual void flush(Completion done) = 0;
  // The range's contents become unspecified; space may be released.
  virtual void discard(uint64_t offset, uint64_t len, Completion done) = 0;
  // The range reads as zeros afterwards; with may_unmap its space may be released.
  virtual void write_zeroes(uint64_t offset, uint64_t len, bool may_unmap, Completion done) = 0;

  // On the loop thread: blocks until every submitted request has completed and its
  // completion has run.
  virtual void drain() = 0;
  // Requests submitted and not yet completed (loop thread).
  virtual size_t in_flight() const = 0;

  // A --snapshot disk's write-back (QEMU's Ctrl-A s and `commit`): on the loop thread, drains,
  // copies everything the guest wrote into the base image, syncs it, and starts the temporary
  // overlay over. Returns the bytes written back; other disks have nothing to write back.
  virtual Result<uint64_t> commit() { return make_error(describe() + ": not a --snapshot disk"); }
  virtual bool snapshot() const { return false; }
};

// --disk PATH[,readonly][,overlay=OVERLAY][,format=raw][,snapshot=on], or --disk
// NBD-URI[,readonly][,timeout=S]
struct DiskSpec {
  std::string path;  // a file, a block device or an NBD URI (nbd.hpp)
  bool read_only = false;
  std::string overlay;  // empty: none
  // format=raw: the image's bytes are the disk even when they begin like a qcow2 or another
  // format's (image_format.hpp), which is refused without it.
  bool format_stated = false;
  // NBD only: seconds a request may wait for the server before the connection is dropped.
  unsigned timeout_seconds = 30;
  // snapshot=on (or `vessel run --snapshot`), as QEMU's -snapshot: the guest's writes go to a
  // temporary overlay, gone at exit unless written back (commit()).
  bool snapshot = false;
  bool operator==(const DiskSpec&) const = default;
};

// A disk of `path` with every other setting at its default but read-only-ness (the API's
// drives have no more to say).
inline DiskSpec disk_of(std::string path, bool read_only = false) {
  DiskSpec d;
  d.path = std::move(path);
  d.read_only = read_only;
  return d;
}

// What a disk's settings must agree on whatever they came from (the --disk option, the API,
// the machine configuration's JSON): a path, NBD's settings only for an NBD URI, no overlay
// with snapshot=on, an overlay that is not the image. One line without a prefix ("snapshot=on
// makes its own temporary overlay; drop overlay="); the caller names the disk.
Result<void> check_disk_spec(const DiskSpec& spec);
inline constexpr unsigned kMaxDiskTimeoutSeconds = 3600;

// Parses the --disk option value (the command line's form). ",," stands for a comma inside the
// path or a value. Errors begin with "--disk: ".
Result<DiskSpec> parse_disk_option(const std::string& text);

enum class IoMode {
  kAuto,     // io_uring if the host allows it, else the thread pool
  kUring,    // io_uring or an error
  kThreads,  // the thread-pool fallback (preadv/pwritev/fdatasync/fallocate)
};

struct OpenOptions {
  IoMode io = IoMode::kAuto;
  unsigned uring_entries = 128;
  unsigned threads = 2;
};

// Where a snapshot=on disk's temporary overlay is made: TMPDIR, else /var/tmp (as QEMU).
std::string snapshot_overlay_dir();

// Opens (and, for a new overlay, creates) the disk. On any error nothing is created or
// modified, and the error is one line naming the file and the problem.
Result<std::unique_ptr<BlockBackend>> open_disk(const DiskSpec& spec,
                                                const OpenOptions& options = {});

}  // namespace vessel::block
