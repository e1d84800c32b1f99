#include "vmm/migration/receiver.hpp"

#include <fmt/format.h>

#include <cstring>

#include "vmm/snapshot/snapshot_codec.hpp"

namespace vessel::migration {

Result<Receiver::Next> Receiver::on_frame(FrameType type, std::span<const uint8_t> payload) {
  switch (phase_) {
    case Phase::kHello:
      if (type != FrameType::kHello) break;
      return on_hello(payload);
    case Phase::kMemory:
      if (type == FrameType::kState) return on_state(payload);
      if (type == FrameType::kPages || type == FrameType::kZeroPages) {
        const PageRun run = TRY(decode_page_run(type, payload, ram_->size() / kPageSize));
        uint8_t* at = ram_->data() + run.first * kPageSize;
        if (type == FrameType::kPages) {
          std::memcpy(at, payload.data() + kPagesHeaderBytes, run.count * kPageSize);
        } else {
          std::memset(at, 0, run.count * kPageSize);
        }
        pages_ += run.count;
        return Next::kMore;
      }
      break;
    case Phase::kDone: break;
  }
  return make_error(fmt::format("migration stream: unexpected {} frame", frame_name(type)));
}

Result<Receiver::Next> Receiver::on_hello(std::span<const uint8_t> payload) {
  hello_ = TRY(decode_hello(payload));
  if (!options_.ticket.empty() && hello_.ticket != options_.ticket) {
    return make_error("the migration's ticket is not the one this destination was given");
  }
  const VirtConfig& c = hello_.config;
  if (options_.ram_size && *options_.ram_size != c.ram_size) {
    return make_error(fmt::format("--memory {}: the incoming guest has {}",
                                  format_size(*options_.ram_size), format_size(c.ram_size)));
  }
  if (options_.harts && *options_.harts != c.num_harts) {
    return make_error(
        fmt::format("--cpus {}: the incoming guest has {}", *options_.harts, c.num_harts));
  }
  if (c.ram_size % kPageSize != 0 || (options_.max_ram != 0 && c.ram_size > options_.max_ram)) {
    return make_error(fmt::format("the incoming guest's RAM ({}) is not acceptable here",
                                  format_size(c.ram_size)));
  }
  auto ram = MappedMemory::allocate(c.ram_size);
  if (!ram)
    return make_error(fmt::format("guest RAM for the incoming VM: {}", ram.error().message));
  ram_ = std::make_shared<MappedMemory>(std::move(*ram));
  phase_ = Phase::kMemory;
  return Next::kHelloDone;
}

Result<Receiver::Next> Receiver::on_state(std::span<const uint8_t> payload) {
  auto loaded = snapshot::parse(payload.data(), payload.size());
  if (!loaded) return make_error(fmt::format("migration STATE: {}", loaded.error().message));
  if (loaded->diff || loaded->config.ram_size != hello_.config.ram_size ||
      loaded->config.num_harts != hello_.config.num_harts) {
    return make_error("migration STATE: the machine is not the one the HELLO announced");
  }
  loaded_ = std::move(*loaded);
  loaded_.ram = ram_;
  phase_ = Phase::kDone;
  return Next::kStateDone;
}

snapshot::Loaded Receiver::take_loaded() { return std::move(loaded_); }

namespace {

Result<Incoming> take_stream(Channel& channel, const ReceiveOptions& options) {
  TRY_VOID(channel.receive_preamble());
  Receiver receiver(options);
  for (;;) {
    const Frame frame = TRY(channel.receive());
    const Receiver::Next next = TRY(receiver.on_frame(frame.header.type, frame.payload));
    if (next == Receiver::Next::kHelloDone) {
      TRY_VOID(channel.send(FrameType::kReady));
    } else if (next == Receiver::Next::kStateDone) {
      break;
    }
  }
  Incoming in{receiver.take_loaded(), Channel(-1, {}), receiver.pages_received()};
  // The disks are the source's own files (shared storage): each base as the source saw it
  // at the stop-and-copy.
  for (const snapshot::DiskRef& d : in.loaded.disks) TRY_VOID(snapshot::check_disk(d));
  return in;
}

}  // namespace

Result<Incoming> receive(Listener& listener, const ReceiveOptions& options) {
  Channel channel = TRY(listener.accept());
  auto in = take_stream(channel, options);
  if (!in) {
    // Best effort: the source may be gone already.
    (void)channel.send(FrameType::kError, {encode_error(in.error().message)});
    channel.close_gently(std::chrono::seconds(2));
    return make_error(fmt::format("incoming migration refused: {}", in.error().message));
  }
  in->channel = std::move(channel);
  return in;
}

}  // namespace vessel::migration
