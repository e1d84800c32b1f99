// virtio-blk (virtio 1.2, "Block Device"): one request queue served on the VM's EventLoop
// thread. notify() (vCPU thread) posts the queue processing to the loop; the loop pops
// chains, checks them, and hands the backend iovecs pointing straight into guest memory; the
// completion writes the status byte, returns the chain and interrupts the driver.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/event_loop.hpp"
#include "devices/virtio/device.hpp"
#include "host/block/block_backend.hpp"

namespace vessel::virtio {

// Per-device counters, readable from any thread.
struct BlkStats {
  uint64_t reads = 0, writes = 0;                        // requests completed successfully
  uint64_t read_bytes = 0, write_bytes = 0;              // their data
  uint64_t flushes = 0, discards = 0, write_zeroes = 0;  // requests received
  uint64_t errors = 0;                                   // requests completed with IOERR or UNSUPP
};

class VirtioBlk final : public VirtioDevice {
 public:
  // Feature bits (virtio 1.2, "Block Device / Feature bits").
  enum Feature : uint64_t {
    kFeatureSegMax = 1ULL << 2,
    kFeatureRo = 1ULL << 5,
    kFeatureBlkSize = 1ULL << 6,
    kFeatureFlush = 1ULL << 9,
    kFeatureDiscard = 1ULL << 13,
    kFeatureWriteZeroes = 1ULL << 14,
  };
  // Request types.
  enum RequestType : uint32_t {
    kTIn = 0,
    kTOut = 1,
    kTFlush = 4,
    kTGetId = 8,
    kTGetLifetime = 10,
    kTDiscard = 11,
    kTWriteZeroes = 13,
    kTSecureErase = 14,
  };
  enum Status : uint8_t { kSOk = 0, kSIoErr = 1, kSUnsupp = 2 };
  // struct virtio_blk_config field offsets.
  enum ConfigField : uint64_t {
    kCfgCapacity = 0,
    kCfgSizeMax = 8,
    kCfgSegMax = 12,
    kCfgGeometry = 16,
    kCfgBlkSize = 20,
    kCfgTopology = 24,
    kCfgWriteback = 32,
    kCfgNumQueues = 34,
    kCfgMaxDiscardSectors = 36,
    kCfgMaxDiscardSeg = 40,
    kCfgDiscardSectorAlignment = 44,
    kCfgMaxWriteZeroesSectors = 48,
    kCfgMaxWriteZeroesSeg = 52,
    kCfgWriteZeroesMayUnmap = 56,
    kConfigSize = 60,
  };
  static constexpr uint64_t kSectorSize = 512;
  static constexpr uint16_t kQueueSize = 256;
  static constexpr uint32_t kSegMax = kQueueSize - 2;  // header and status take a descriptor each
  static constexpr uint32_t kMaxDiscardSectors = 1U << 22;  // 2 GiB per segment
  static constexpr uint32_t kMaxDiscardSeg = 32;
  static constexpr size_t kHeaderSize = 16;      // type, reserved, sector
  static constexpr size_t kDiscardSegSize = 16;  // sector, num_sectors, flags
  static constexpr size_t kIdBytes = 20;
  static constexpr uint32_t kFlagUnmap = 1;

  // The backend is attached to `loop`, which must outlive the device.
  VirtioBlk(std::unique_ptr<block::BlockBackend> backend, EventLoop& loop, bool read_only);
  ~VirtioBlk() override;

  std::string_view name() const override { return "virtio-blk"; }
  DeviceId device_id() const override { return DeviceId::kBlock; }
  uint64_t device_features() const override;
  unsigned num_queues() const override { return 1; }
  uint16_t queue_max_size(unsigned) const override { return kQueueSize; }
  void read_config(uint64_t offset, uint8_t* out, unsigned size) const override;

  Result<void> activate(const DeviceContext& ctx, uint64_t features) override;
  void notify(unsigned index) override;
  void reset() override;

  void save(StateWriter& out) const override;
  Result<void> restore(StateReader& in) override;

  BlkStats stats() const;
  uint64_t capacity_sectors() const { return capacity_; }
  bool read_only() const { return read_only_; }
  // The GET_ID string: "vessel-<n>" by default, n counting devices made in this process.
  const std::string& serial() const { return serial_; }
  void set_serial(std::string serial) { serial_ = std::move(serial).substr(0, kIdBytes); }
  // Blocks until every request handed to the backend has completed and flushes the disk.
  void quiesce() override;
  // A --snapshot disk's write-back into its base image (BlockBackend::commit), run on the I/O
  // thread between two requests; the bytes written back.
  Result<uint64_t> commit();
  bool snapshot() const { return backend_->snapshot(); }
  // What the disk is, for messages ("disk.img (--snapshot, io_uring)").
  std::string describe() const { return backend_->describe(); }

 private:
  struct Request;

  // Loop thread.
  void process_queue();
  void handle(DescriptorChain chain);
  void start_transfer(const std::shared_ptr<Request>& req, const DescriptorChain& chain,
                      uint32_t type, uint64_t sector);
  void start_discard_or_zeroes(const std::shared_ptr<Request>& req, const DescriptorChain& chain,
                               uint32_t type);
  void start_get_id(const std::shared_ptr<Request>& req, const DescriptorChain& chain);
  // Backend completion for a request: in writethrough mode writes get a flush first.
  void backend_done(const std::shared_ptr<Request>& req, int err);
  void finish(const std::shared_ptr<Request>& req, uint8_t status);
  void run_on_loop(const std::function<void()>& fn);

  std::unique_ptr<block::BlockBackend> backend_;
  EventLoop& loop_;
  const bool read_only_;
  const uint64_t capacity_;  // sectors
  bool backend_ok_ = false;
  std::string serial_;
  std::vector<uint8_t> config_;

  // Loop thread only: the active context, bumped on every activate/reset so that completions
  // of a previous generation leave the queue alone.
  DeviceContext ctx_;
  bool active_ = false;
  bool broken_ = false;  // needs_reset reported; nothing more until reset
  uint64_t generation_ = 0;
  uint64_t features_ = 0;

  std::atomic<uint64_t> negotiated_{0};  // features_, readable from other threads for save()
  std::atomic<bool> notify_posted_{false};
  std::atomic<bool> ever_posted_{false};

  struct Counters {
    std::atomic<uint64_t> reads{0}, writes{0}, read_bytes{0}, write_bytes{0}, flushes{0},
        discards{0}, write_zeroes{0}, errors{0};
  };
  Counters counters_;
};

}  // namespace vessel::virtio
