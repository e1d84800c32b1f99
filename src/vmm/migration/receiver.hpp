// The destination's side of a migration: the stream's frames checked and applied in order
// (HELLO, then pages into fresh guest RAM, then STATE), and what comes out of them, a snapshot
// to restore whose RAM is the pages received. Receiver is pure (the fuzz target drives it);
// receive() runs it over a connection.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/mapped_memory.hpp"
#include "base/result.hpp"
#include "vmm/migration/channel.hpp"
#include "vmm/migration/stream.hpp"
#include "vmm/snapshot/snapshot.hpp"

namespace vessel::migration {

struct ReceiveOptions {
  std::string ticket;                // the HELLO's must be this one (empty: any)
  std::optional<uint64_t> ram_size;  // --memory given: the guest must have it
  std::optional<unsigned> harts;     // --cpus given
  uint64_t max_ram = 0;              // 0: what the board allows (the fuzz target sets less)
};

class Receiver {
 public:
  explicit Receiver(ReceiveOptions options) : options_(std::move(options)) {}

  enum class Next { kMore, kHelloDone, kStateDone };
  // One frame (its CRC checked already): refused when out of order or out of bounds.
  Result<Next> on_frame(FrameType type, std::span<const uint8_t> payload);
  const Hello& hello() const { return hello_; }
  // After kStateDone: the snapshot to restore; its `ram` is the pages received.
  snapshot::Loaded take_loaded();
  uint64_t pages_received() const { return pages_; }

 private:
  Result<Next> on_hello(std::span<const uint8_t> payload);
  Result<Next> on_state(std::span<const uint8_t> payload);

  ReceiveOptions options_;
  enum class Phase { kHello, kMemory, kDone } phase_ = Phase::kHello;
  Hello hello_;
  std::shared_ptr<MappedMemory> ram_;
  snapshot::Loaded loaded_;
  uint64_t pages_ = 0;
};

struct Incoming {
  snapshot::Loaded loaded;
  Channel channel;  // to answer RUNNING (or ERROR) once the guest runs, or fails to
  uint64_t pages = 0;
};

// Waits for a source on `listener`, takes its stream and checks the disks it names (their
// base files are the source's: shared storage). A refusal is sent to the source as ERROR
// before the error is returned.
Result<Incoming> receive(Listener& listener, const ReceiveOptions& options);

}  // namespace vessel::migration
