#include "vmm/migration/sender.hpp"

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "vmm/snapshot/snapshot.hpp"
#include "vmm/snapshot/snapshot_codec.hpp"

namespace vessel::migration {

namespace {

using Clock = std::chrono::steady_clock;
// The stop-and-copy may always take this many pages (1 MiB), whatever the link's speed.
constexpr uint64_t kMinFinalPages = 256;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

uint64_t count_pages(const std::vector<uint64_t>& words) {
  uint64_t n = 0;
  for (uint64_t w : words) n += static_cast<uint64_t>(__builtin_popcountll(w));
  return n;
}

class Sender {
 public:
  Sender(SourceVm& vm, const SendOptions& options, Channel channel)
      : vm_(vm), options_(options), channel_(std::move(channel)) {}

  Result<SendStats> run();
  // After a failure: the guest goes on here.
  void recover() {
    if (held_) (void)vm_.resume();
    held_ = false;
    vm_.machine.forget_dirty_base();
  }

 private:
  Result<void> handshake();
  // Holds the harts (unless paused anyway), takes the dirty log and drops every hart's write
  // mappings, so that the next store to any page logs it again; lets them go unless `hold`.
  Result<std::vector<uint64_t>> take_dirty(bool hold);
  Result<void> send_whole_ram();
  Result<void> send_pages(const std::vector<uint64_t>& words);
  // Pages [first, first+count): data in PAGES frames, zeros as ZERO_PAGES (or skipped on the
  // first pass, where the destination's fresh RAM is zeros already).
  Result<void> send_run(uint64_t first, uint64_t count, bool skip_zeros);
  Result<void> stop_and_copy(std::vector<uint64_t> words);
  uint64_t final_threshold() const;

  SourceVm& vm_;
  const SendOptions& options_;
  Channel channel_;
  SendStats stats_;
  bool held_ = false;
  std::vector<uint8_t> copy_ = std::vector<uint8_t>(kMaxPagesPerFrame * kPageSize);
  double round_ms_ = 0;
  uint64_t round_bytes_ = 0;
};

Result<void> Sender::handshake() {
  TRY_VOID(channel_.send_preamble());
  const std::vector<uint8_t> hello =
      encode_hello({snapshot::vessel_version(), options_.ticket, vm_.config});
  TRY_VOID(channel_.send(FrameType::kHello, {hello}));
  const Frame reply = TRY(channel_.receive());
  if (reply.header.type == FrameType::kError) {
    return make_error(fmt::format("the destination refused it: {}", decode_error(reply.payload)));
  }
  if (reply.header.type != FrameType::kReady) {
    return make_error(
        fmt::format("the destination answered {} to HELLO", frame_name(reply.header.type)));
  }
  return {};
}

Result<std::vector<uint64_t>> Sender::take_dirty(bool hold) {
  if (vm_.running && !held_) {
    TRY_VOID(vm_.pause());
    held_ = true;
  }
  std::vector<uint64_t> words = vm_.machine.dirty_pages().take();
  for (auto& h : vm_.machine.harts()) h->drop_write_mappings();
  if (!hold && held_) {
    TRY_VOID(vm_.resume());
    held_ = false;
  }
  return words;
}

// The destination said something while only the source should be talking: an ERROR (it
// refused the stream and is going away). Looked at between frames, so that the source stops
// at once with the destination's reason instead of a reset link.
Result<void> destination_quiet(Channel& channel) {
  if (!channel.readable()) return {};
  auto frame = channel.receive();
  if (!frame) return make_error(frame.error().message);
  if (frame->header.type == FrameType::kError) {
    return make_error(fmt::format("the destination refused it: {}", decode_error(frame->payload)));
  }
  return make_error(
      fmt::format("the destination sent {} during the transfer", frame_name(frame->header.type)));
}

Result<void> Sender::send_run(uint64_t first, uint64_t count, bool skip_zeros) {
  const uint8_t* ram = vm_.machine.ram().data();
  uint64_t p = first;
  const uint64_t end = first + count;
  while (p < end) {
    const bool zero = snapshot::is_zero_page(ram + p * kPageSize);
    uint64_t n = 1;
    while (p + n < end && n < kMaxPagesPerFrame &&
           snapshot::is_zero_page(ram + (p + n) * kPageSize) == zero)
      ++n;
    TRY_VOID(destination_quiet(channel_));
    const auto header = encode_page_run({p, n});
    if (!zero) {
      // A copy: the guest may write the pages meanwhile, and the checksum and the bytes sent
      // must be of the same data (a page written since is in the dirty log, sent again).
      std::memcpy(copy_.data(), ram + p * kPageSize, n * kPageSize);
      TRY_VOID(channel_.send(FrameType::kPages,
                             {header, std::span<const uint8_t>(copy_.data(), n * kPageSize)}));
      stats_.pages_sent += n;
    } else if (!skip_zeros) {
      TRY_VOID(channel_.send(FrameType::kZeroPages, {header}));
    }
    p += n;
  }
  return {};
}

Result<void> Sender::send_whole_ram() {
  const MappedMemory& ram = vm_.machine.ram();
  const uint64_t pages = ram.size() / kPageSize;
  // Anonymous RAM the host never backed was never written: zeros, as the destination's is.
  std::vector<unsigned char> resident;
  if (!ram.file_backed()) {
    resident.resize(pages);
    if (mincore(ram.data(), ram.size(), resident.data()) != 0) resident.clear();
  }
  uint64_t start = 0;
  for (uint64_t p = 0; p <= pages; ++p) {
    const bool present = p < pages && (resident.empty() || (resident[p] & 1) != 0);
    if (present) continue;
    if (p > start) TRY_VOID(send_run(start, p - start, /*skip_zeros=*/true));
    start = p + 1;
  }
  return {};
}

Result<void> Sender::send_pages(const std::vector<uint64_t>& words) {
  const uint64_t pages = vm_.machine.ram().size() / kPageSize;
  uint64_t start = 0, len = 0;
  for (uint64_t p = 0; p <= pages; ++p) {
    if (p < pages && ((words[p / 64] >> (p % 64)) & 1) != 0) {
      if (len++ == 0) start = p;
    } else if (len != 0) {
      TRY_VOID(send_run(start, len, /*skip_zeros=*/false));
      len = 0;
    }
  }
  return {};
}

uint64_t Sender::final_threshold() const {
  // What the link carried during the last round, scaled to the downtime wanted.
  if (round_ms_ <= 0) return kMinFinalPages;
  const double bytes_per_ms = static_cast<double>(round_bytes_) / round_ms_;
  const double pages =
      bytes_per_ms * static_cast<double>(options_.downtime_target.count()) / kPageSize;
  return std::max<uint64_t>(kMinFinalPages, static_cast<uint64_t>(pages));
}

Result<void> Sender::stop_and_copy(std::vector<uint64_t> words) {
  Result<void> sent;
  Result<std::vector<uint8_t>> state = std::vector<uint8_t>{};
  vm_.machine.quiesced([&] {
    // What the devices wrote while completing their requests is in the log now.
    const std::vector<uint64_t> more = vm_.machine.dirty_pages().take();
    for (size_t i = 0; i < words.size(); ++i) words[i] |= more[i];
    stats_.final_pages = count_pages(words);
    sent = send_pages(words);
    if (sent) state = snapshot::capture_state(vm_.machine, vm_.config, false);
  });
  TRY_VOID(sent);
  const std::vector<uint8_t> bytes = TRY(std::move(state));
  TRY_VOID(channel_.send(FrameType::kState, {bytes}));
  const Frame reply = TRY(channel_.receive());
  if (reply.header.type == FrameType::kError) {
    return make_error(
        fmt::format("the destination could not start the guest: {}", decode_error(reply.payload)));
  }
  if (reply.header.type != FrameType::kRunning) {
    return make_error(
        fmt::format("the destination answered {} to STATE", frame_name(reply.header.type)));
  }
  return {};
}

Result<SendStats> Sender::run() {
  const auto t0 = Clock::now();
  TRY_VOID(handshake());
  (void)TRY(take_dirty(/*hold=*/false));  // from here every write is logged
  auto pass = Clock::now();
  uint64_t pass_bytes = channel_.bytes_sent();
  TRY_VOID(send_whole_ram());
  stats_.rounds = 1;
  for (;;) {
    round_ms_ = ms_since(pass);
    round_bytes_ = channel_.bytes_sent() - pass_bytes;
    if (vm_.ended && vm_.ended()) return make_error("the guest ended during the migration");
    std::vector<uint64_t> words = TRY(take_dirty(/*hold=*/true));
    if (count_pages(words) <= final_threshold() || stats_.rounds > options_.max_rounds) {
      const auto stopped = Clock::now();
      TRY_VOID(stop_and_copy(std::move(words)));
      stats_.downtime_ms = ms_since(stopped);
      break;
    }
    if (held_) {
      TRY_VOID(vm_.resume());
      held_ = false;
    }
    pass = Clock::now();
    pass_bytes = channel_.bytes_sent();
    TRY_VOID(send_pages(words));
    ++stats_.rounds;
  }
  stats_.total_ms = ms_since(t0);
  stats_.bytes_sent = channel_.bytes_sent();
  return stats_;
}

}  // namespace

Result<SendStats> send(SourceVm& vm, const SendOptions& options) {
  auto channel = Channel::connect(options.to);
  if (!channel) return make_error(fmt::format("migration: {}", channel.error().message));
  Sender sender(vm, options, std::move(*channel));
  auto stats = sender.run();
  if (!stats) {
    sender.recover();
    return make_error(fmt::format("migration to {} failed, the VM runs on here: {}",
                                  options.to.text, stats.error().message));
  }
  return stats;
}

}  // namespace vessel::migration
