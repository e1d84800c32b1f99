// A split virtqueue (virtio 1.2, "Split Virtqueues") over guest memory, as the device side
// sees it. Everything read from the rings is guest-controlled: descriptor indexes, addresses,
// lengths, flags and chain structure are validated, and a malformed chain is reported as an
// error instead of being followed (the transport then marks the device DEVICE_NEEDS_RESET).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "devices/virtio/guest_memory.hpp"

namespace vessel::virtio {

// Descriptor flags.
enum DescFlags : uint16_t { kDescNext = 1, kDescWrite = 2, kDescIndirect = 4 };
// Ring flags and feature bits used by the queue itself.
enum : uint16_t { kAvailNoInterrupt = 1, kUsedNoNotify = 1 };

// One buffer segment of a chain, already checked to lie inside guest memory.
struct Segment {
  uint64_t addr = 0;
  uint32_t len = 0;
  bool device_writable = false;
};

// A popped descriptor chain: the device reads the readable segments in order, then writes the
// writable ones (the spec requires all readable segments to come first).
struct DescriptorChain {
  uint16_t head = 0;
  std::vector<Segment> readable;
  std::vector<Segment> writable;
  uint64_t readable_bytes() const;
  uint64_t writable_bytes() const;
};

// Reads the readable part of a chain as one byte stream.
class ChainReader {
 public:
  ChainReader(const GuestMemory& mem, const DescriptorChain& chain) : mem_(mem), chain_(chain) {}
  // Copies up to len bytes; returns how many were available.
  uint64_t read(void* out, uint64_t len);
  bool read_exact(void* out, uint64_t len) { return read(out, len) == len; }
  uint64_t remaining() const;
  // Skips len bytes (false if fewer remain).
  bool skip(uint64_t len);

 private:
  const GuestMemory& mem_;
  const DescriptorChain& chain_;
  size_t seg_ = 0;
  uint64_t off_ = 0;
};

// Writes into the writable part of a chain as one byte stream.
class ChainWriter {
 public:
  ChainWriter(const GuestMemory& mem, const DescriptorChain& chain) : mem_(mem), chain_(chain) {}
  // Copies up to len bytes; returns how many fitted.
  uint64_t write(const void* in, uint64_t len);
  bool write_exact(const void* in, uint64_t len) { return write(in, len) == len; }
  uint64_t remaining() const;
  uint64_t written() const { return written_; }

 private:
  const GuestMemory& mem_;
  const DescriptorChain& chain_;
  size_t seg_ = 0;
  uint64_t off_ = 0;
  uint64_t written_ = 0;
};

class Virtqueue {
 public:
  static constexpr uint16_t kMaxSize = 32768;

  // Queue state as the driver configured it through the transport.
  struct Config {
    uint16_t size = 0;  // power of two, 1..kMaxSize
    uint64_t desc = 0, avail = 0, used = 0;
    bool ready = false;
  };

  Virtqueue() = default;
  // Validates alignment and that the three areas lie in guest memory; false = unusable.
  // event_idx / indirect_desc: whether VIRTIO_F_EVENT_IDX / VIRTIO_F_INDIRECT_DESC were
  // negotiated (an indirect descriptor is a malformed chain without the latter).
  bool configure(const GuestMemory& mem, const Config& config, bool event_idx,
                 bool indirect_desc = false);
  void reset();
  bool ready() const { return ready_; }
  uint16_t size() const { return size_; }

  // The next available chain, nullopt when the ring is empty. A malformed chain (index out of
  // range, address outside RAM, loop, length overflow, writable before readable, nested
  // indirect) sets error() and returns nullopt; the queue stays stopped until reset.
  std::optional<DescriptorChain> pop();
  // Puts the chain pop() returned last back at the head of the ring, untouched (a device that
  // may not serve it yet: a rate limiter). Nothing may be popped in between.
  void undo_pop();
  // Return a chain to the driver with the number of bytes written into it.
  void push_used(uint16_t head, uint32_t written);
  // Whether the driver wants an interrupt for what was pushed since the last call
  // (VIRTIO_F_EVENT_IDX's used_event, or the avail ring's NO_INTERRUPT flag).
  bool needs_interrupt();
  // With EVENT_IDX: tell the driver which avail index we will look at next, so it notifies us
  // (avail_event). Call before re-checking for work so that no notification is lost.
  void enable_notifications();

  const std::string& error() const { return error_; }
  bool failed() const { return !error_.empty(); }

  // For the transport's save/restore: the configuration and the device's ring positions.
  Config config() const { return {size_, desc_, avail_, used_, ready_}; }
  bool event_idx() const { return event_idx_; }
  bool indirect_desc() const { return indirect_; }
  uint16_t last_avail() const { return last_avail_; }
  uint16_t used_index() const { return used_idx_; }
  uint16_t signalled_used() const { return signalled_used_; }
  void set_positions(uint16_t last_avail, uint16_t used_idx, uint16_t signalled_used) {
    last_avail_ = last_avail;
    used_idx_ = used_idx;
    signalled_used_ = signalled_used;
  }
  // Stop the queue as if a malformed chain had been found (restoring a failed queue).
  void mark_failed(std::string why) { fail(std::move(why)); }

 private:
  bool fail(std::string why);
  // avail_event (EVENT_IDX): the avail index at which the driver should notify us next.
  void publish_avail_event();
  bool walk(DescriptorChain& chain, uint16_t head);

  const GuestMemory* mem_ = nullptr;
  // Host views of the three areas, checked (bounds and alignment) by configure().
  const uint8_t* desc_host_ = nullptr;
  const uint8_t* avail_host_ = nullptr;
  uint8_t* used_host_ = nullptr;
  uint16_t size_ = 0;
  uint64_t desc_ = 0, avail_ = 0, used_ = 0;
  bool ready_ = false;
  bool event_idx_ = false;
  bool indirect_ = false;
  uint16_t last_avail_ = 0;      // next avail ring entry to consume
  uint16_t used_idx_ = 0;        // next used ring entry to fill
  uint16_t signalled_used_ = 0;  // used_idx_ when the driver was last interrupted
  std::string error_;
};

}  // namespace vessel::virtio
