// The overlay backend: reads go to the overlay's data clusters or to the base, writes go to
// clusters allocated at the end of the overlay file (copying the base cluster first when the
// write covers only part of it). The allocation table lives in memory and reaches the file
// at flush time, after the data it points to is durable (docs/overlay.md).
#include "host/block/overlay.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>

#include "base/bits.hpp"
#include "base/log.hpp"

namespace vessel::block::overlay {

namespace {

constexpr uint64_t kTableBlock = 512;  // table entries reach the file in sector-sized blocks
constexpr uint64_t kEntriesPerBlock = kTableBlock / 8;

bool is_data(uint64_t entry) { return entry != kUnallocated && entry != kZeroCluster; }

// One guest request split into sub-operations: completes when the last part does, with the
// first error seen. `pending` starts at 1 for the dispatcher, which releases it when done
// splitting, so that parts finishing early cannot complete the request prematurely.
struct Join {
  int pending = 1;
  int error = 0;
  std::function<void(int)> done;
};
using JoinPtr = std::shared_ptr<Join>;

class OverlayBackend final : public BlockBackend {
 public:
  OverlayBackend(UniqueFd base, UniqueFd ovl, std::string ovl_path, Header header,
                 std::vector<uint64_t> table, uint64_t next_free, bool read_only,
                 std::unique_ptr<IoEngine> engine, bool temporary)
      : base_(std::move(base)),
        ovl_(std::move(ovl)),
        path_(std::move(ovl_path)),
        h_(std::move(header)),
        table_(std::move(table)),
        next_free_(next_free),
        read_only_(read_only),
        temporary_(temporary),
        engine_(std::move(engine)) {}

  ~OverlayBackend() override {
    engine_.reset();  // waits for the kernel to let go of our buffers
    if (!dirty_.empty()) write_table_sync();
  }

  uint64_t size() const override { return h_.virtual_size; }
  bool read_only() const override { return read_only_; }
  uint32_t discard_granularity() const override { return 4096; }
  std::string describe() const override {
    if (temporary_) return fmt::format("{} (--snapshot, {})", h_.base.path, engine_->name());
    return fmt::format("{} (overlay over {}{}, {})", path_, h_.base.path,
                       read_only_ ? ", read-only" : "", engine_->name());
  }
  Result<uint64_t> commit() override;
  bool snapshot() const override { return temporary_; }
  Result<void> attach(EventLoop& loop) override { return engine_->attach(loop); }
  void detach() override { engine_->detach(); }
  size_t in_flight() const override { return in_flight_; }

  void drain() override {
    while (in_flight_ > 0) {
      if (engine_->in_flight() == 0) {
        static LogLimiter limiter;  // at every reboot of a guest that reboots in a loop
        log_limited(limiter, LogLevel::kError, "{}: {} requests lost", path_, in_flight_);
        break;
      }
      engine_->drain();
    }
  }

  void read(uint64_t offset, std::vector<iovec> iov, Completion done) override {
    const uint64_t len = iov_bytes(iov);
    if (!in_range(offset, len)) return done(-EINVAL);
    if (len == 0) return done(0);
    JoinPtr j = start(std::move(done));
    auto data = std::make_shared<std::vector<iovec>>(std::move(iov));
    // Consecutive pieces with the same source and adjacent physical offsets form one read.
    struct Run {
      int fd = -1;  // -1: zeros
      uint64_t phys = 0, start = 0, len = 0;
    } run;
    auto emit = [&] {
      if (run.len == 0) return;
      if (run.fd < 0) {
        for (const iovec& v : slice_iov(*data, run.start, run.len)) {
          std::memset(v.iov_base, 0, v.iov_len);
        }
      } else {
        submit_io(j, IoOp::Kind::kRead, run.fd, run.phys, slice_iov(*data, run.start, run.len),
                  data);
      }
    };
    for (uint64_t pos = 0; pos < len;) {
      const uint64_t voff = offset + pos;
      const uint64_t c = voff >> h_.cluster_bits;
      const uint64_t in = voff & (h_.cluster_size() - 1);
      const uint64_t n = std::min(h_.cluster_size() - in, len - pos);
      const uint64_t e = table_[c];
      const int fd = e == kZeroCluster ? -1 : e == kUnallocated ? base_.get() : ovl_.get();
      const uint64_t phys = e == kZeroCluster ? 0 : e == kUnallocated ? voff : e + in;
      if (run.len != 0 && run.fd == fd && (fd < 0 || run.phys + run.len == phys)) {
        run.len += n;
      } else {
        emit();
        run = Run{fd, phys, pos, n};
      }
      pos += n;
    }
    emit();
    part_done(j, 0);
  }

  void write(uint64_t offset, std::vector<iovec> iov, Completion done) override {
    const uint64_t len = iov_bytes(iov);
    if (!in_range(offset, len)) return done(-EINVAL);
    if (read_only_) return done(-EROFS);
    if (len == 0) return done(0);
    JoinPtr j = start(std::move(done));
    auto data = std::make_shared<std::vector<iovec>>(std::move(iov));
    for_each_piece(offset, len, [&](uint64_t voff, uint64_t pos, uint64_t n) {
      write_piece(j, data, voff, pos, n);
    });
    part_done(j, 0);
  }

  void discard(uint64_t offset, uint64_t len, Completion done) override {
    if (!in_range(offset, len)) return done(-EINVAL);
    if (read_only_) return done(-EROFS);
    if (len == 0) return done(0);
    JoinPtr j = start(std::move(done));
    for_each_piece(offset, len,
                   [&](uint64_t voff, uint64_t, uint64_t n) { discard_piece(j, voff, n); });
    part_done(j, 0);
  }

  void write_zeroes(uint64_t offset, uint64_t len, bool may_unmap, Completion done) override {
    if (!in_range(offset, len)) return done(-EINVAL);
    if (read_only_) return done(-EROFS);
    if (len == 0) return done(0);
    JoinPtr j = start(std::move(done));
    for_each_piece(offset, len,
                   [&](uint64_t voff, uint64_t, uint64_t n) { zero_piece(j, voff, n, may_unmap); });
    part_done(j, 0);
  }

  void flush(Completion done) override {
    if (read_only_) return done(0);
    ++in_flight_;
    flush_waiters_.push_back(std::move(done));
    if (!flushing_) start_flush();
  }

 private:
  using Data = std::shared_ptr<std::vector<iovec>>;

  bool in_range(uint64_t offset, uint64_t len) const {
    return offset <= h_.virtual_size && len <= h_.virtual_size - offset;
  }
  // Bytes of cluster c inside the virtual disk (the last one may be short).
  uint64_t cluster_len(uint64_t c) const {
    return std::min(h_.cluster_size(), h_.virtual_size - (c << h_.cluster_bits));
  }

  template <typename Fn>
  void for_each_piece(uint64_t offset, uint64_t len, Fn fn) {
    for (uint64_t pos = 0; pos < len;) {
      const uint64_t voff = offset + pos;
      const uint64_t in = voff & (h_.cluster_size() - 1);
      const uint64_t n = std::min(h_.cluster_size() - in, len - pos);
      fn(voff, pos, n);
      pos += n;
    }
  }

  JoinPtr start(Completion done) {
    ++in_flight_;
    auto j = std::make_shared<Join>();
    j->done = std::move(done);
    return j;
  }
  void part_done(const JoinPtr& j, int err) {
    if (err != 0 && j->error == 0) j->error = err;
    if (--j->pending == 0) {
      --in_flight_;
      j->done(j->error);
    }
  }

  // `keep` holds whatever the iovecs point into until the operation completes.
  void submit_io(const JoinPtr& j, IoOp::Kind kind, int fd, uint64_t phys, std::vector<iovec> iov,
                 std::shared_ptr<void> keep) {
    ++j->pending;
    IoOp op;
    op.kind = kind;
    op.fd = fd;
    op.offset = phys;
    op.iov = std::move(iov);
    engine_->submit(std::move(op), [this, j, keep = std::move(keep)](int64_t res) {
      part_done(j, res < 0 ? static_cast<int>(res) : 0);
    });
  }

  // A piece that touches a cluster being allocated waits for the allocation, then runs again.
  bool wait_for_allocation(const JoinPtr& j, uint64_t c, std::function<void()> again) {
    auto it = allocating_.find(c);
    if (it == allocating_.end()) return false;
    ++j->pending;
    it->second.push_back([this, j, again = std::move(again)] {
      again();
      part_done(j, 0);
    });
    return true;
  }

  void write_piece(const JoinPtr& j, const Data& data, uint64_t voff, uint64_t pos, uint64_t n) {
    const uint64_t c = voff >> h_.cluster_bits;
    if (wait_for_allocation(j, c, [=, this] { write_piece(j, data, voff, pos, n); })) return;
    const uint64_t e = table_[c];
    const uint64_t in = voff & (h_.cluster_size() - 1);
    if (is_data(e)) {
      submit_io(j, IoOp::Kind::kWrite, ovl_.get(), e + in, slice_iov(*data, pos, n), data);
    } else {
      allocate(j, c, e, in, n, data, pos);
    }
  }

  void discard_piece(const JoinPtr& j, uint64_t voff, uint64_t n) {
    const uint64_t c = voff >> h_.cluster_bits;
    if (wait_for_allocation(j, c, [=, this] { discard_piece(j, voff, n); })) return;
    const uint64_t e = table_[c];
    // Unallocated clusters keep reading from the base: discarded data is unspecified.
    if (!is_data(e)) return;
    ++j->pending;
    punch_file_range(*engine_, ovl_.get(), e + (voff & (h_.cluster_size() - 1)), n, caps_,
                     [this, j](int err) { part_done(j, err); });
  }

  void zero_piece(const JoinPtr& j, uint64_t voff, uint64_t n, bool may_unmap) {
    const uint64_t c = voff >> h_.cluster_bits;
    if (wait_for_allocation(j, c, [=, this] { zero_piece(j, voff, n, may_unmap); })) return;
    const uint64_t e = table_[c];
    const uint64_t in = voff & (h_.cluster_size() - 1);
    if (e == kZeroCluster) return;
    if (is_data(e)) {
      ++j->pending;
      zero_file_range(*engine_, ovl_.get(), e + in, n, may_unmap, caps_,
                      [this, j](int err) { part_done(j, err); });
    } else if (in == 0 && n == cluster_len(c)) {
      set_entry(c, kZeroCluster);
    } else {
      allocate(j, c, e, in, n, nullptr, 0);  // copy the base, zeros in [in, in+n)
    }
  }

  // Gives cluster c a new data cluster at the end of the file holding its current contents
  // (base or zeros) with [in, in+n) replaced by `data` from `pos` (zeros if data is null).
  void allocate(const JoinPtr& j, uint64_t c, uint64_t old, uint64_t in, uint64_t n,
                const Data& data, uint64_t pos) {
    const uint64_t clen = cluster_len(c);
    const uint64_t phys = next_free_;
    next_free_ += h_.cluster_size();
    allocating_[c];
    ++j->pending;
    auto finish = [this, j, c, phys](int64_t res) {
      if (res >= 0) set_entry(c, phys);
      // On failure the cluster stays as it was; its space at phys is lost until a rewrite.
      auto waiters = std::move(allocating_[c]);
      allocating_.erase(c);
      part_done(j, res < 0 ? static_cast<int>(res) : 0);
      for (auto& w : waiters) w();
    };
    if (in == 0 && n == clen && data != nullptr) {
      IoOp op;
      op.kind = IoOp::Kind::kWrite;
      op.fd = ovl_.get();
      op.offset = phys;
      op.iov = slice_iov(*data, pos, n);
      engine_->submit(std::move(op), [finish, data](int64_t res) { finish(res); });
      return;
    }
    auto buf = std::make_shared<std::vector<uint8_t>>(clen, 0);
    auto merge_and_write = [this, buf, data, in, n, pos, phys, finish] {
      if (data != nullptr) {
        uint64_t at = in;
        for (const iovec& v : slice_iov(*data, pos, n)) {
          std::memcpy(buf->data() + at, v.iov_base, v.iov_len);
          at += v.iov_len;
        }
      } else {
        std::memset(buf->data() + in, 0, n);
      }
      IoOp op;
      op.kind = IoOp::Kind::kWrite;
      op.fd = ovl_.get();
      op.offset = phys;
      op.iov = {{buf->data(), buf->size()}};
      engine_->submit(std::move(op), [finish, buf, data](int64_t res) { finish(res); });
    };
    if (old == kZeroCluster) {
      merge_and_write();
      return;
    }
    IoOp op;
    op.kind = IoOp::Kind::kRead;
    op.fd = base_.get();
    op.offset = c << h_.cluster_bits;
    op.iov = {{buf->data(), buf->size()}};
    engine_->submit(std::move(op), [finish, merge_and_write, buf](int64_t res) {
      if (res < 0) {
        finish(res);
      } else {
        merge_and_write();
      }
    });
  }

  void set_entry(uint64_t c, uint64_t value) {
    table_[c] = value;
    dirty_.insert(c / kEntriesPerBlock);
  }

  // Table blocks as they are now, little-endian, grouped into runs of adjacent blocks.
  struct TableRun {
    uint64_t first_block = 0;
    std::vector<uint8_t> bytes;
  };
  std::vector<TableRun> snapshot_dirty() {
    std::vector<TableRun> runs;
    for (uint64_t b : dirty_) {
      if (runs.empty() || runs.back().first_block + runs.back().bytes.size() / kTableBlock != b) {
        runs.push_back({b, {}});
      }
      auto& bytes = runs.back().bytes;
      const size_t at = bytes.size();
      bytes.resize(at + kTableBlock, 0);
      for (uint64_t k = 0; k < kEntriesPerBlock; ++k) {
        const uint64_t c = b * kEntriesPerBlock + k;
        if (c < table_.size()) store_le<uint64_t>(bytes.data() + at + k * 8, table_[c]);
      }
    }
    return runs;
  }
  void redirty(const std::vector<TableRun>& runs) {
    for (const auto& r : runs) {
      for (uint64_t k = 0; k < r.bytes.size() / kTableBlock; ++k) dirty_.insert(r.first_block + k);
    }
  }

  // Flush: data durable first, then the table entries pointing at it, then those too. Every
  // flush waiting when one starts is covered by it; later ones wait for the next round.
  void start_flush() {
    flushing_ = true;
    auto waiters = std::make_shared<std::vector<Completion>>(std::move(flush_waiters_));
    flush_waiters_.clear();
    auto runs = std::make_shared<std::vector<TableRun>>(snapshot_dirty());
    dirty_.clear();
    datasync([this, waiters, runs](int err) {
      if (err != 0 || runs->empty()) return end_flush(waiters, runs, err);
      auto j = std::make_shared<Join>();
      j->done = [this, waiters, runs](int werr) {
        if (werr != 0) return end_flush(waiters, runs, werr);
        datasync([this, waiters, runs](int serr) { end_flush(waiters, runs, serr); });
      };
      for (auto& r : *runs) {
        const uint64_t at = h_.table_offset + r.first_block * kTableBlock;
        ++j->pending;
        IoOp op;
        op.kind = IoOp::Kind::kWrite;
        op.fd = ovl_.get();
        op.offset = at;
        op.iov = {{r.bytes.data(), r.bytes.size()}};
        engine_->submit(std::move(op), [j, runs](int64_t res) {
          if (res < 0 && j->error == 0) j->error = static_cast<int>(res);
          if (--j->pending == 0) j->done(j->error);
        });
      }
      if (--j->pending == 0) j->done(j->error);
    });
  }

  void end_flush(const std::shared_ptr<std::vector<Completion>>& waiters,
                 const std::shared_ptr<std::vector<TableRun>>& runs, int err) {
    if (err != 0) redirty(*runs);
    flushing_ = false;
    for (auto& w : *waiters) {
      --in_flight_;
      w(err);
    }
    if (!flush_waiters_.empty() && !flushing_) start_flush();
  }

  void datasync(std::function<void(int)> done) {
    IoOp op;
    op.kind = IoOp::Kind::kDatasync;
    op.fd = ovl_.get();
    engine_->submit(std::move(op), [done = std::move(done)](int64_t res) {
      done(res < 0 ? static_cast<int>(res) : 0);
    });
  }

  // At close, for a guest that never flushed: the same order, synchronously.
  void write_table_sync() {
    // At every reboot of a guest that reboots in a loop, on a disk that fails.
    static LogLimiter limiter;
    if (fdatasync(ovl_.get()) != 0) {
      log_limited(limiter, LogLevel::kError, "{}: fdatasync: {}", path_, std::strerror(errno));
      return;
    }
    for (const auto& r : snapshot_dirty()) {
      IoOp op;
      op.kind = IoOp::Kind::kWrite;
      op.fd = ovl_.get();
      op.offset = h_.table_offset + r.first_block * kTableBlock;
      op.iov = {{const_cast<uint8_t*>(r.bytes.data()), r.bytes.size()}};
      if (const int64_t res = run_op_sync(op); res < 0) {
        log_limited(limiter, LogLevel::kError, "{}: writing the table: {}", path_,
                    std::strerror(static_cast<int>(-res)));
        return;
      }
    }
    dirty_.clear();
    if (fdatasync(ovl_.get()) != 0) {
      log_limited(limiter, LogLevel::kError, "{}: fdatasync: {}", path_, std::strerror(errno));
    }
  }

  UniqueFd base_, ovl_;
  std::string path_;
  Header h_;
  std::vector<uint64_t> table_;
  uint64_t next_free_;
  bool read_only_;
  bool temporary_;
  std::unique_ptr<IoEngine> engine_;
  ZeroCaps caps_;
  size_t in_flight_ = 0;
  std::unordered_map<uint64_t, std::vector<std::function<void()>>> allocating_;
  std::set<uint64_t> dirty_;  // table blocks changed since the last flush
  bool flushing_ = false;
  std::vector<Completion> flush_waiters_;
};

// Synchronous on the loop thread: the guest's requests wait behind it, as they do behind
// QEMU's commit. The base is locked exclusively while it is written, so a VM sharing it (with
// an overlay of its own) makes the write-back fail instead of changing under that VM.
Result<uint64_t> OverlayBackend::commit() {
  const std::string& base_path = h_.base.path;
  if (!temporary_) return make_error(path_ + ": an overlay file, not a --snapshot disk");
  if ((fcntl(base_.get(), F_GETFL) & O_ACCMODE) != O_RDWR) {
    return make_error(base_path + ": opened read-only, so nothing can be written back");
  }
  drain();
  if (in_flight_ > 0) return make_error(base_path + ": requests still in flight");
  if (flock(base_.get(), LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    (void)flock(base_.get(), LOCK_SH | LOCK_NB);
    return make_error(fmt::format("{}: in use by another process ({})", base_path,
                                  err == EWOULDBLOCK ? "locked" : std::strerror(err)));
  }
  const uint64_t cs = h_.cluster_size();
  std::vector<uint8_t> buf(cs);
  uint64_t written = 0;
  auto copy = [&](uint64_t c) -> int64_t {
    const uint64_t at = c << h_.cluster_bits;
    const uint64_t n = std::min(cs, h_.virtual_size - at);
    IoOp op;
    op.iov = {{buf.data(), n}};
    if (table_[c] == kZeroCluster) {
      std::memset(buf.data(), 0, n);
    } else {
      op.kind = IoOp::Kind::kRead;
      op.fd = ovl_.get();
      op.offset = table_[c];
      if (const int64_t r = run_op_sync(op); r < 0) return r;
    }
    op.kind = IoOp::Kind::kWrite;
    op.fd = base_.get();
    op.offset = at;
    const int64_t r = run_op_sync(op);
    written += r < 0 ? 0 : n;
    return r;
  };
  int64_t res = 0;
  for (uint64_t c = 0; c < table_.size() && res >= 0; ++c) {
    if (table_[c] != kUnallocated) res = copy(c);
  }
  if (res >= 0 && fdatasync(base_.get()) != 0) res = -errno;
  (void)flock(base_.get(), LOCK_SH | LOCK_NB);
  if (res < 0) {
    // What was copied stays in the overlay too: the guest's view is unchanged, and a second
    // write-back can finish the job.
    return make_error(fmt::format("{}: writing back failed after {} bytes: {}", base_path, written,
                                  std::strerror(static_cast<int>(-res))));
  }
  // The base now holds everything: the overlay starts over, and its space goes back.
  std::fill(table_.begin(), table_.end(), kUnallocated);
  for (uint64_t b = 0; b * kEntriesPerBlock < table_.size(); ++b) dirty_.insert(b);
  next_free_ = h_.data_offset;
  if (ftruncate(ovl_.get(), static_cast<off_t>(h_.data_offset)) != 0) {
    log(LogLevel::kWarn, "{}: cannot shrink the --snapshot overlay: {}", base_path,
        std::strerror(errno));
  }
  write_table_sync();
  return written;
}

}  // namespace

Result<std::unique_ptr<BlockBackend>> open(UniqueFd base, const BaseIdentity& base_id, UniqueFd ovl,
                                           const std::string& ovl_path, bool read_only,
                                           std::unique_ptr<IoEngine> engine, bool temporary) {
  struct stat st {};
  if (fstat(ovl.get(), &st) != 0) {
    return make_error(fmt::format("{}: {}", ovl_path, std::strerror(errno)));
  }
  const auto file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < kHeaderSize) {
    return make_error(ovl_path + ": not a vessel overlay (file too short)");
  }
  std::vector<uint8_t> buf(kHeaderSize);
  IoOp op;
  op.kind = IoOp::Kind::kRead;
  op.fd = ovl.get();
  op.iov = {{buf.data(), buf.size()}};
  if (const int64_t r = run_op_sync(op); r < 0) {
    return make_error(
        fmt::format("{}: read failed: {}", ovl_path, std::strerror(static_cast<int>(-r))));
  }
  Header h = TRY(Header::decode(buf.data(), buf.size(), ovl_path));

  if (h.base.size != base_id.size || h.base.hash != base_id.hash) {
    const std::string why = h.base.size != base_id.size
                                ? fmt::format("{} bytes, not {}", h.base.size, base_id.size)
                                : std::string("its contents differ");
    return make_error(fmt::format("{}: overlay belongs to another base (made for {}; {}: {})",
                                  ovl_path, h.base.path, base_id.path, why));
  }
  if (h.base.dev == base_id.dev && h.base.ino == base_id.ino &&
      h.base.mtime_ns != base_id.mtime_ns) {
    log(LogLevel::kWarn, "{}: base {} was modified after the overlay was made", ovl_path,
        base_id.path);
  }

  if (file_size < h.data_offset) {
    return make_error(ovl_path + ": overlay is corrupt (file ends inside the table)");
  }
  std::vector<uint8_t> raw(h.table_entries * 8);
  op.offset = h.table_offset;
  op.iov = {{raw.data(), raw.size()}};
  if (const int64_t r = run_op_sync(op); r < 0) {
    return make_error(
        fmt::format("{}: read failed: {}", ovl_path, std::strerror(static_cast<int>(-r))));
  }
  std::vector<uint64_t> table(h.table_entries);
  std::vector<uint64_t> used;
  const uint64_t cs = h.cluster_size();
  for (uint64_t c = 0; c < h.table_entries; ++c) {
    const uint64_t e = load_le<uint64_t>(raw.data() + c * 8);
    if (is_data(e)) {
      if (e % cs != 0 || e < h.data_offset || e >= file_size) {
        return make_error(
            fmt::format("{}: overlay table is corrupt (cluster {} at {:#x})", ovl_path, c, e));
      }
      used.push_back(e);
    }
    table[c] = e;
  }
  std::sort(used.begin(), used.end());
  if (std::adjacent_find(used.begin(), used.end()) != used.end()) {
    return make_error(ovl_path + ": overlay table is corrupt (two clusters share data)");
  }
  const uint64_t next_free = std::max(h.data_offset, align_up(file_size, cs));
  return std::unique_ptr<BlockBackend>(
      std::make_unique<OverlayBackend>(std::move(base), std::move(ovl), ovl_path, std::move(h),
                                       std::move(table), next_free, read_only, std::move(engine),
                                       temporary));
}

}  // namespace vessel::block::overlay
