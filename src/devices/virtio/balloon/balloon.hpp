// virtio memory balloon (virtio 1.2, "Traditional Memory Balloon Device"): the host asks for a
// number of guest pages (num_pages); the driver allocates them and hands their page frame
// numbers over inflateq, and the host gives their memory back to the host kernel
// (MADV_DONTNEED). Pages handed back over deflateq are the guest's again; touching them maps
// fresh zeroed memory. With VIRTIO_BALLOON_F_STATS_VQ the driver reports memory statistics on
// statsq; the device keeps the driver's buffer and returns it when it wants a fresh report
// (every stats interval). Linux's driver is virtio_balloon.
//
// Queues are served on the VM's EventLoop. A guest cannot grow the host's memory through
// this device: each chain is read in place, page by page, and only the last stats report is
// kept.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/event_loop.hpp"
#include "devices/virtio/device.hpp"
#include "devices/virtio/queue_worker.hpp"

namespace vessel::virtio {

// VIRTIO_BALLOON_S_* tags, in the spec's order.
enum class BalloonStat : uint16_t {
  kSwapIn = 0,
  kSwapOut,
  kMajorFaults,
  kMinorFaults,
  kFreeMemory,
  kTotalMemory,
  kAvailableMemory,
  kDiskCaches,
  kHugetlbAllocations,
  kHugetlbFailures,
  kCount
};

struct BalloonStats {
  std::array<std::optional<uint64_t>, static_cast<size_t>(BalloonStat::kCount)> values;
  uint64_t reports = 0;  // how many reports the driver has sent
  std::optional<uint64_t> get(BalloonStat s) const { return values[static_cast<size_t>(s)]; }
};

// --balloon [amount=MIB][,deflate-on-oom][,stats=SECONDS], and the API's PUT /balloon.
struct BalloonConfig {
  uint32_t amount_mib = 0;  // the target at boot
  bool deflate_on_oom = false;
  unsigned stats_interval_s = 0;  // 0: no statistics
};
Result<BalloonConfig> parse_balloon_option(const std::string& text);

class VirtioBalloon final : public VirtioDevice {
 public:
  static constexpr unsigned kInflateq = 0, kDeflateq = 1, kStatsq = 2;
  static constexpr uint64_t kFeatureStatsVq = 1ULL << 1;       // VIRTIO_BALLOON_F_STATS_VQ
  static constexpr uint64_t kFeatureDeflateOnOom = 1ULL << 2;  // VIRTIO_BALLOON_F_DEFLATE_ON_OOM
  static constexpr uint64_t kPageSize = 4096;                  // VIRTIO_BALLOON_PFN_SHIFT 12
  static constexpr unsigned kChainsPerTurn = 32;

  struct Options {
    bool deflate_on_oom = false;
    // 0: statistics off (the feature is not offered). Otherwise how often a report is asked.
    std::chrono::seconds stats_interval{0};
  };

  VirtioBalloon(EventLoop& loop, Options options);
  ~VirtioBalloon() override;

  std::string_view name() const override { return "virtio-balloon"; }
  DeviceId device_id() const override { return DeviceId::kBalloon; }
  uint64_t device_features() const override;
  unsigned num_queues() const override { return 3; }
  void read_config(uint64_t offset, uint8_t* out, unsigned size) const override;
  void write_config(uint64_t offset, const uint8_t* in, unsigned size) override;

  Result<void> activate(const DeviceContext& ctx, uint64_t features) override;
  void notify(unsigned index) override;
  void reset() override;

  void save(StateWriter& out) const override;
  Result<void> restore(StateReader& in) override;

  // The host's side (API thread). The target in 4 KiB pages; the driver is told at once.
  void set_target_pages(uint32_t pages);
  uint32_t target_pages() const { return target_.load(); }
  // What the driver says it holds (its `actual` field).
  uint32_t actual_pages() const { return actual_.load(); }
  // Changes how often statistics are asked for; 0 stops asking. Only when the feature was
  // offered (a nonzero interval at creation), as Firecracker allows.
  bool set_stats_interval(std::chrono::seconds interval);
  std::chrono::seconds stats_interval() const;
  BalloonStats stats() const;
  // Pages given back to the host since the start (statistics, tests).
  uint64_t pages_released() const { return shared_->released.load(); }
  // Chains the driver sent on inflateq and deflateq (Firecracker's inflate_count and
  // deflate_count).
  uint64_t inflate_chains() const { return shared_->inflates.load(); }
  uint64_t deflate_chains() const { return shared_->deflates.load(); }

 private:
  struct Shared {
    std::atomic<uint64_t> released{0};
    std::atomic<uint64_t> inflates{0}, deflates{0};
    std::atomic<bool> want_stats{false};
    bool stats_negotiated = false;
    std::optional<uint16_t> held_stats;  // the driver's stats buffer the device keeps
    mutable std::mutex stats_mu;
    BalloonStats stats;
  };
  void arm_stats_timer();

  EventLoop& loop_;
  const Options options_;
  std::atomic<uint32_t> target_{0}, actual_{0};
  std::atomic<int64_t> interval_s_;
  std::shared_ptr<Shared> shared_;
  QueueWorker worker_;
  DeviceContext ctx_;  // for signal_config; set at activate
  std::mutex timer_mu_;
  EventLoop::TimerId timer_ = 0;
  bool active_ = false;
};

}  // namespace vessel::virtio
