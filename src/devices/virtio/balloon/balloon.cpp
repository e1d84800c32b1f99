#include "devices/virtio/balloon/balloon.hpp"

#include <sys/mman.h>

#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "base/option_fields.hpp"

namespace vessel::virtio {

namespace {

// Gives one guest page's memory back to the host: the next touch maps a zeroed page. RAM the
// host did not map page-aligned (tests) is zeroed instead, which the guest cannot tell apart.
void release_page(const GuestMemory& mem, uint8_t* host) {
  const auto addr = reinterpret_cast<uintptr_t>(host);
  if (addr % VirtioBalloon::kPageSize != 0 ||
      madvise(host, VirtioBalloon::kPageSize, MADV_DONTNEED) != 0) {
    std::memset(host, 0, VirtioBalloon::kPageSize);
  }
  mem.wrote(host, VirtioBalloon::kPageSize);  // translated code on the page is gone
}

// inflateq: each chain holds le32 page frame numbers.
bool serve_inflate(const GuestMemory& mem, Virtqueue& q, std::atomic<uint64_t>& released,
                   std::atomic<uint64_t>& chains) {
  static LogLimiter bad_pfn;
  bool used = false;
  for (unsigned n = 0; n < VirtioBalloon::kChainsPerTurn; ++n) {
    const std::optional<DescriptorChain> chain = next_chain(q);
    if (!chain) return used;
    ChainReader reader(mem, *chain);
    uint32_t pfn = 0;
    while (reader.read_exact(&pfn, sizeof pfn)) {
      const uint64_t gpa = static_cast<uint64_t>(pfn) * VirtioBalloon::kPageSize;
      uint8_t* host = mem.write_ptr(gpa, VirtioBalloon::kPageSize);
      if (host == nullptr) {
        log_limited(bad_pfn, LogLevel::kWarn, "virtio-balloon: page frame {:#x} is not RAM", pfn);
        continue;
      }
      release_page(mem, host);
      released.fetch_add(1, std::memory_order_relaxed);
    }
    q.push_used(chain->head, 0);
    chains.fetch_add(1, std::memory_order_relaxed);
    used = true;
  }
  return used;
}

// deflateq: the pages are the guest's again; nothing to do on this side.
bool serve_deflate(Virtqueue& q, std::atomic<uint64_t>& chains) {
  bool used = false;
  for (unsigned n = 0; n < VirtioBalloon::kChainsPerTurn; ++n) {
    const std::optional<DescriptorChain> chain = next_chain(q);
    if (!chain) return used;
    q.push_used(chain->head, 0);
    chains.fetch_add(1, std::memory_order_relaxed);
    used = true;
  }
  return used;
}

// struct virtio_balloon_stat: le16 tag, le64 val, packed (10 bytes).
constexpr size_t kStatEntryBytes = 10;

Result<unsigned> number(const std::string& key, const std::string& value, unsigned max) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size() || v > max) {
    return make_error(
        fmt::format("--balloon: {} '{}' is not a number from 0 to {}", key, value, max));
  }
  return v;
}

}  // namespace

Result<BalloonConfig> parse_balloon_option(const std::string& text) {
  BalloonConfig config;
  if (text.empty() || text == "on") return config;
  for (const std::string& field : split_option_fields(text)) {
    const size_t eq = field.find('=');
    const std::string key = field.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : field.substr(eq + 1);
    if (key == "amount" && eq != std::string::npos) {
      config.amount_mib = TRY(number(key, value, 1U << 22));
    } else if (key == "stats" && eq != std::string::npos) {
      config.stats_interval_s = TRY(number(key, value, 86400));
    } else if (key == "deflate-on-oom" && eq == std::string::npos) {
      config.deflate_on_oom = true;
    } else {
      return make_error(fmt::format(
          "--balloon: unknown option '{}' (known: amount=MIB, deflate-on-oom, stats=SECONDS)",
          field));
    }
  }
  return config;
}

VirtioBalloon::VirtioBalloon(EventLoop& loop, Options options)
    : loop_(loop),
      options_(options),
      interval_s_(options.stats_interval.count()),
      shared_(std::make_shared<Shared>()),
      worker_(loop, "virtio-balloon", {"inflateq", "deflateq", "statsq"},
              [shared = shared_](const GuestMemory& mem, std::vector<Virtqueue>& queues) {
                ServiceTurn turn;
                if (queues[kInflateq].ready() && !queues[kInflateq].failed() &&
                    serve_inflate(mem, queues[kInflateq], shared->released, shared->inflates)) {
                  turn.used |= 1U << kInflateq;
                }
                if (queues[kDeflateq].ready() && !queues[kDeflateq].failed() &&
                    serve_deflate(queues[kDeflateq], shared->deflates)) {
                  turn.used |= 1U << kDeflateq;
                }
                Virtqueue& sq = queues[kStatsq];
                if (!shared->stats_negotiated || !sq.ready() || sq.failed()) return turn;
                // A report from the driver: read it and keep its buffer for the next request.
                if (std::optional<DescriptorChain> chain = sq.pop()) {
                  if (shared->held_stats) sq.push_used(*shared->held_stats, 0);
                  ChainReader reader(mem, *chain);
                  uint8_t raw[kStatEntryBytes];
                  std::lock_guard lock(shared->stats_mu);
                  while (reader.read_exact(raw, sizeof raw)) {
                    uint16_t tag = 0;
                    uint64_t val = 0;
                    std::memcpy(&tag, raw, sizeof tag);
                    std::memcpy(&val, raw + sizeof tag, sizeof val);
                    if (tag < shared->stats.values.size()) shared->stats.values[tag] = val;
                  }
                  ++shared->stats.reports;
                  shared->held_stats = chain->head;
                }
                if (shared->held_stats && shared->want_stats.exchange(false)) {
                  sq.push_used(*shared->held_stats, 0);
                  shared->held_stats.reset();
                  turn.used |= 1U << kStatsq;
                }
                return turn;
              }) {}

VirtioBalloon::~VirtioBalloon() { reset(); }

uint64_t VirtioBalloon::device_features() const {
  return (options_.deflate_on_oom ? kFeatureDeflateOnOom : 0) |
         (options_.stats_interval.count() > 0 ? kFeatureStatsVq : 0);
}

// struct virtio_balloon_config: le32 num_pages (the host's), le32 actual (the driver's).
void VirtioBalloon::read_config(uint64_t offset, uint8_t* out, unsigned size) const {
  const uint32_t words[2] = {target_.load(), actual_.load()};
  uint8_t bytes[sizeof words];
  std::memcpy(bytes, words, sizeof words);
  for (unsigned i = 0; i < size; ++i) out[i] = offset + i < sizeof bytes ? bytes[offset + i] : 0;
}

void VirtioBalloon::write_config(uint64_t offset, const uint8_t* in, unsigned size) {
  if (offset < 4 || offset + size > 8) return;  // only `actual` is the driver's
  uint32_t actual = actual_.load();
  auto* bytes = reinterpret_cast<uint8_t*>(&actual);
  std::memcpy(bytes + (offset - 4), in, size);
  actual_.store(actual);
}

Result<void> VirtioBalloon::activate(const DeviceContext& ctx, uint64_t features) {
  shared_->stats_negotiated = (features & kFeatureStatsVq) != 0;
  shared_->held_stats.reset();
  {
    std::lock_guard lock(timer_mu_);
    ctx_ = ctx;
    active_ = true;
  }
  TRY_VOID(worker_.activate(ctx));
  arm_stats_timer();
  return {};
}

void VirtioBalloon::notify(unsigned index) {
  if (index < num_queues()) worker_.kick();
}

void VirtioBalloon::reset() {
  worker_.stop();
  std::lock_guard lock(timer_mu_);
  active_ = false;
  if (timer_ != 0) loop_.cancel_timer(timer_);
  timer_ = 0;
  ctx_ = DeviceContext{};
}

// Every interval: return the held stats buffer so that the driver sends a new report.
void VirtioBalloon::arm_stats_timer() {
  std::lock_guard lock(timer_mu_);
  if (timer_ != 0) loop_.cancel_timer(timer_);
  timer_ = 0;
  const int64_t seconds = interval_s_.load();
  if (!active_ || seconds <= 0 || !shared_->stats_negotiated) return;
  timer_ = loop_.add_timer(std::chrono::seconds(seconds), [this] {
    shared_->want_stats.store(true);
    worker_.kick();
    {
      std::lock_guard relock(timer_mu_);
      timer_ = 0;
    }
    arm_stats_timer();
  });
}

void VirtioBalloon::set_target_pages(uint32_t pages) {
  target_.store(pages);
  std::function<void()> signal;
  {
    std::lock_guard lock(timer_mu_);
    if (active_) signal = ctx_.signal_config;
  }
  if (signal) signal();
}

bool VirtioBalloon::set_stats_interval(std::chrono::seconds interval) {
  if (options_.stats_interval.count() == 0 || interval.count() < 0) return false;
  interval_s_.store(interval.count());
  arm_stats_timer();
  return true;
}

std::chrono::seconds VirtioBalloon::stats_interval() const {
  return std::chrono::seconds(interval_s_.load());
}

BalloonStats VirtioBalloon::stats() const {
  std::lock_guard lock(shared_->stats_mu);
  return shared_->stats;
}

}  // namespace vessel::virtio
