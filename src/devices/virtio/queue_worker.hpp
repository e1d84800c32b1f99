// Runs a virtio device's queue service on the VM's EventLoop: what the console and entropy
// devices share.
//
// - Notifications are coalesced: while a turn is queued, kick() queues nothing more, so a
//   guest hammering QueueNotify cannot grow the loop's task queue.
// - A turn that did not finish (the service said `more`) queues the next one behind the other
//   work on the loop instead of looping.
// - stop() (device reset) waits for a turn in progress; turns queued after it find the device
//   inactive. Tasks hold the shared state, so one still queued when the device is destroyed
//   finds it stopped instead of freed.
// - After each turn the driver is signalled for the queues that got used buffers, and the first
//   queue found failed (malformed chain) is reported once through needs_reset; both happen
//   after the worker's lock is released, so it is never held across a call into the transport.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/event_loop.hpp"
#include "base/result.hpp"
#include "devices/virtio/device.hpp"

namespace vessel::virtio {

// What one turn of a device's queue service did.
struct ServiceTurn {
  uint32_t used = 0;  // bit i: queue i got used buffers
  bool more = false;  // work is left for another turn
  // Without `more`: work is left that may not be done yet (a rate limiter's wait); another
  // turn comes after this long, or sooner on a kick.
  std::chrono::steady_clock::duration retry_after{};
};

// The next available chain of q. When the ring is empty, notifications are re-armed
// (EVENT_IDX's avail_event) before a last look, so that a buffer the driver adds meanwhile is
// seen either here or through a new notify.
inline std::optional<DescriptorChain> next_chain(Virtqueue& q) {
  std::optional<DescriptorChain> chain = q.pop();
  if (!chain && !q.failed()) {
    q.enable_notifications();
    chain = q.pop();
  }
  return chain;
}

class QueueWorker {
 public:
  // Serves the queues; runs on the loop thread, one turn at a time, between activate() and
  // stop(). Leaves a malformed chain to the queue's failed() state.
  using Service =
      std::function<ServiceTurn(const GuestMemory& mem, std::vector<Virtqueue>& queues)>;

  // queue_names name the queues in error messages ("receiveq0"); their count is how many
  // queues activate() requires.
  QueueWorker(EventLoop& loop, std::string device_name, std::vector<std::string> queue_names,
              Service service)
      : loop_(loop),
        core_(std::make_shared<Core>(std::move(device_name), std::move(queue_names),
                                     std::move(service))) {}
  ~QueueWorker() { stop(); }
  QueueWorker(const QueueWorker&) = delete;
  QueueWorker& operator=(const QueueWorker&) = delete;

  // DRIVER_OK: start serving (work queued before it included).
  Result<void> activate(const DeviceContext& ctx) {
    if (ctx.memory == nullptr || ctx.queues == nullptr ||
        ctx.queues->size() < core_->queue_names.size()) {
      return make_error(core_->device_name + ": activated without guest memory or its queues");
    }
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      core_->ctx = ctx;
      core_->active = true;
      core_->failure_reported = false;
    }
    kick();
    return {};
  }

  // Queue a turn unless one is queued already. Any thread.
  void kick() { schedule(loop_, core_); }

  // Device reset: returns once no turn is running, and none will run until activate().
  void stop() {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->active = false;
    core_->failure_reported = false;
    core_->ctx = DeviceContext{};
  }

 private:
  struct Core {
    Core(std::string name, std::vector<std::string> names, Service s)
        : device_name(std::move(name)), queue_names(std::move(names)), service(std::move(s)) {}

    // One turn; what the service wants next.
    ServiceTurn run() {
      ServiceTurn turn;
      std::function<void(unsigned)> signal_used;
      std::function<void(std::string_view)> needs_reset;
      std::string failure;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!active) return {};
        std::vector<Virtqueue>& queues = *ctx.queues;
        turn = service(*ctx.memory, queues);
        for (size_t i = 0; i < queue_names.size() && !failure_reported; ++i) {
          if (!queues[i].failed()) continue;
          failure_reported = true;
          failure = device_name + ": " + queue_names[i] + ": " + queues[i].error();
          needs_reset = ctx.needs_reset;
        }
        if (turn.used != 0) signal_used = ctx.signal_used;
      }
      for (unsigned i = 0; i < 32; ++i) {
        if ((turn.used & (1U << i)) != 0) signal_used(i);
      }
      if (needs_reset) needs_reset(failure);
      return turn;
    }

    const std::string device_name;
    const std::vector<std::string> queue_names;
    std::mutex mu;
    // Guarded by mu, as is everything the service touches.
    Service service;
    bool active = false;
    bool failure_reported = false;
    DeviceContext ctx;
    // A turn is queued on the loop; a retry timer is armed (one at most).
    std::atomic<bool> scheduled{false};
    std::atomic<bool> retry_armed{false};
  };

  static void schedule(EventLoop& loop, const std::shared_ptr<Core>& core) {
    if (core->scheduled.exchange(true)) return;
    loop.post([&loop, core] {
      core->scheduled.store(false);
      const ServiceTurn turn = core->run();
      if (turn.more) {
        schedule(loop, core);
      } else if (turn.retry_after > std::chrono::steady_clock::duration::zero() &&
                 !core->retry_armed.exchange(true)) {
        // The timer lives on the loop, which outlives the devices it serves.
        loop.add_timer(turn.retry_after, [&loop, core] {
          core->retry_armed.store(false);
          schedule(loop, core);
        });
      }
    });
  }

  EventLoop& loop_;
  std::shared_ptr<Core> core_;
};

}  // namespace vessel::virtio
