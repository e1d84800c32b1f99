#include "host/net/slirp_backend.hpp"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <sys/epoll.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <future>
#include <unordered_map>

#include "base/log.hpp"
#include "host/net/slirp_state.hpp"

// How slirp is driven without a poll() loop of our own.
//
// libslirp expects its host to call slirp_pollfds_fill (which sockets, which events, how long
// until its TCP timers are due) before sleeping and slirp_pollfds_poll after. The VM's I/O
// thread sleeps in epoll instead, so one "cycle" here is: fill, poll(2) the same set with a
// zero timeout (readiness now, from the real fds), slirp_pollfds_poll (slirp reads, writes,
// accepts and runs its TCP timers), then fill again and make the loop's epoll set match that
// second fill, with a one-shot loop timer for its timeout. A cycle runs when one of those fds
// becomes ready, when the timer expires, after the guest sent frames (slirp_input may open
// sockets or queue data), and when slirp's notify callback asks for one.
//
// Nothing spins: between cycles the thread sleeps in epoll_wait. slirp caps the timeout at
// 1 s (2 ms while a delayed ACK is pending, 500 ms while TCP connections exist), so an idle
// stack costs one cycle a second. That periodic cycle also bounds the damage if slirp ever
// closed a socket without unregister_poll_fd and the fd number came back for a new socket
// while we still thought it registered: the zero-timeout poll(2) sees the real fd, so traffic
// would be late, never stuck. In the normal case unregister_poll_fd drops the fd from epoll
// before slirp closes it. slirp's own timers (timer_new_opaque: IPv6 router advertisements)
// are loop timers on the same clock as clock_get_ns, steady_clock.

namespace vessel {

namespace {

constexpr uint32_t kNetwork = 0x0a000200;  // 10.0.2.0
constexpr uint32_t kNetmask = 0xffffff00;
constexpr uint32_t kHost = 0x0a000202;        // 10.0.2.2, the gateway (host's loopback)
constexpr uint32_t kDhcpStart = 0x0a00020f;   // 10.0.2.15
constexpr uint32_t kNameserver = 0x0a000203;  // 10.0.2.3

// mmds=on: replies held for the guest at most, and for how long a stalled connection keeps them.
constexpr size_t kMmdsMaxPendingReplies = 256 * 1024;
constexpr auto kMmdsReplyPatience = std::chrono::seconds(2);

in_addr ipv4(uint32_t host_order) {
  in_addr a{};
  a.s_addr = htonl(host_order);
  return a;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

short to_poll_events(int slirp_events) {
  int ev = 0;
  if ((slirp_events & SLIRP_POLL_IN) != 0) ev |= POLLIN;
  if ((slirp_events & SLIRP_POLL_OUT) != 0) ev |= POLLOUT;
  if ((slirp_events & SLIRP_POLL_PRI) != 0) ev |= POLLPRI;
  if ((slirp_events & SLIRP_POLL_ERR) != 0) ev |= POLLERR;
  if ((slirp_events & SLIRP_POLL_HUP) != 0) ev |= POLLHUP;
  return static_cast<short>(ev);
}

int to_slirp_events(short revents) {
  int ev = 0;
  if ((revents & POLLIN) != 0) ev |= SLIRP_POLL_IN;
  if ((revents & POLLOUT) != 0) ev |= SLIRP_POLL_OUT;
  if ((revents & POLLPRI) != 0) ev |= SLIRP_POLL_PRI;
  if ((revents & (POLLERR | POLLNVAL)) != 0) ev |= SLIRP_POLL_ERR;
  if ((revents & POLLHUP) != 0) ev |= SLIRP_POLL_HUP;
  return ev;
}

uint32_t to_epoll_events(short poll_events) {
  uint32_t ev = 0;
  if ((poll_events & POLLIN) != 0) ev |= EPOLLIN;
  if ((poll_events & POLLOUT) != 0) ev |= EPOLLOUT;
  if ((poll_events & POLLPRI) != 0) ev |= EPOLLPRI;
  return ev;  // EPOLLERR and EPOLLHUP are always reported
}

}  // namespace

struct SlirpBackend::Impl : std::enable_shared_from_this<Impl> {
  // A slirp timer; expire times are milliseconds on clock_get_ns's clock.
  struct Timer {
    SlirpTimerId id = SLIRP_TIMER_RA;
    void* cb_opaque = nullptr;
    SlirpTimerCb cb = nullptr;  // set for timers made through the older timer_new
    EventLoop::TimerId loop_timer = 0;
    bool armed = false;
    uint64_t generation = 0;
  };

  explicit Impl(EventLoop& l) : loop(l) {}

  EventLoop& loop;
  Slirp* slirp = nullptr;
  Receiver receiver;
  bool torn_down = false;
  bool cycle_posted = false;
  std::vector<pollfd> pollfds;
  std::unordered_map<int, uint32_t> watched;  // fd -> epoll events registered with the loop
  bool poll_timer_armed = false;
  EventLoop::TimerId poll_timer = 0;
  std::chrono::steady_clock::time_point poll_deadline;
  std::unordered_map<Timer*, std::unique_ptr<Timer>> timers;
  uint64_t next_generation = 1;
  // mmds=on: the store, the HTTP stream of the guest's connections to it, and the replies
  // slirp has not taken yet (bounded: a guest that never reads loses them).
  std::shared_ptr<net::MmdsStore> mmds;
  uint32_t mmds_address = net::kMmdsAddress;  // the store's, when the network was built
  std::unique_ptr<net::MmdsSession> mmds_session;
  std::string mmds_out;
  std::chrono::steady_clock::time_point mmds_out_since;
  bool mmds_retry_armed = false;

  static Impl& from(void* opaque) { return *static_cast<Impl*>(opaque); }

  void schedule_cycle() {
    if (cycle_posted || torn_down) return;
    cycle_posted = true;
    loop.post([weak = weak_from_this()] {
      if (auto self = weak.lock()) self->cycle();
    });
  }

  void cycle() {
    cycle_posted = false;
    if (torn_down) return;
    uint32_t timeout = UINT32_MAX;
    pollfds.clear();
    slirp_pollfds_fill(slirp, &timeout, &Impl::add_poll, this);
    int error = 0;
    if (!pollfds.empty()) {
      int n;
      do { n = ::poll(pollfds.data(), pollfds.size(), 0); } while (n < 0 && errno == EINTR);
      error = n < 0 ? 1 : 0;
    }
    slirp_pollfds_poll(slirp, error, &Impl::get_revents, this);

    timeout = UINT32_MAX;
    pollfds.clear();
    slirp_pollfds_fill(slirp, &timeout, &Impl::add_poll, this);
    watch();
    arm_poll_timer(timeout);
  }

  // Makes the loop's registrations match pollfds.
  void watch() {
    std::unordered_map<int, uint32_t> want;
    for (const pollfd& p : pollfds) {
      const uint32_t ev = to_epoll_events(p.events);
      if (ev != 0) want[p.fd] |= ev;
    }
    for (auto it = watched.begin(); it != watched.end();) {
      if (want.count(it->first) == 0) {
        loop.remove_fd(it->first);
        it = watched.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [fd, ev] : want) {
      auto it = watched.find(fd);
      if (it != watched.end() && it->second == ev) continue;
      if (it != watched.end() && loop.modify_fd(fd, ev).ok()) {
        it->second = ev;
        continue;
      }
      if (it != watched.end()) {  // the loop lost it (see the note at the top): start over
        loop.remove_fd(fd);
        watched.erase(it);
      }
      auto added = loop.add_fd(fd, ev, [weak = weak_from_this()](uint32_t) {
        if (auto self = weak.lock()) self->schedule_cycle();
      });
      if (added.ok()) {
        watched[fd] = ev;
      } else {
        log(LogLevel::kDebug, "slirp: cannot watch fd {}: {}", fd, added.error().message);
      }
    }
  }

  void arm_poll_timer(uint32_t timeout_ms) {
    if (timeout_ms == UINT32_MAX) return;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    if (poll_timer_armed) {
      if (poll_deadline <= deadline) return;  // an earlier wake-up is already due
      loop.cancel_timer(poll_timer);
    }
    poll_timer_armed = true;
    poll_deadline = deadline;
    poll_timer = loop.add_timer(std::chrono::milliseconds(timeout_ms), [weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        self->poll_timer_armed = false;
        self->cycle();
      }
    });
  }

  void teardown() {
    if (torn_down) return;
    torn_down = true;
    for (const auto& [fd, ev] : watched) loop.remove_fd(fd);
    watched.clear();
    if (poll_timer_armed) loop.cancel_timer(poll_timer);
    poll_timer_armed = false;
    for (auto& [ptr, t] : timers) {
      if (t->armed) loop.cancel_timer(t->loop_timer);
      t->armed = false;
    }
    if (slirp != nullptr) slirp_cleanup(slirp);
    slirp = nullptr;
    timers.clear();
    receiver = nullptr;
  }

  // --- libslirp callbacks (always on the thread that called into slirp) ---

  static int add_poll(int fd, int events, void* opaque) {
    Impl& self = from(opaque);
    self.pollfds.push_back(pollfd{fd, to_poll_events(events), 0});
    return static_cast<int>(self.pollfds.size() - 1);
  }

  static int get_revents(int idx, void* opaque) {
    const Impl& self = from(opaque);
    if (idx < 0 || static_cast<size_t>(idx) >= self.pollfds.size()) return 0;
    return to_slirp_events(self.pollfds[static_cast<size_t>(idx)].revents);
  }

  static ssize_t send_packet(const void* buf, size_t len, void* opaque) {
    Impl& self = from(opaque);
    if (!self.receiver || len < kMinFrameSize || len > kMaxFrameSize) {
      return static_cast<ssize_t>(len);
    }
    std::span<const uint8_t> frame(static_cast<const uint8_t*>(buf), len);
    if (self.mmds && net::ipv4_address_is(frame, true, net::kMmdsSlirpAlias)) {
      std::vector<uint8_t> copy(frame.begin(), frame.end());
      net::rewrite_ipv4_address(copy, true, net::kMmdsSlirpAlias, self.mmds_address);
      self.receiver(copy);
    } else {
      self.receiver(frame);
    }
    return static_cast<ssize_t>(len);
  }

  // slirp hands over what the guest sent to the metadata service's address.
  static ssize_t mmds_write(const void* buf, size_t len, void* opaque) {
    Impl& self = from(opaque);
    const auto now = std::chrono::steady_clock::now();
    if (self.mmds_out.empty()) self.mmds_out_since = now;
    if (self.mmds_out.size() < kMmdsMaxPendingReplies) {
      self.mmds_out +=
          self.mmds_session->feed(std::string_view(static_cast<const char*>(buf), len), now);
    }
    self.loop.post([weak = self.weak_from_this()] {
      if (auto s = weak.lock(); s && !s->torn_down) s->flush_mmds();
    });
    return static_cast<ssize_t>(len);
  }

  // Replies go out as fast as the guest's connection takes them; what a closed or stalled
  // connection leaves is dropped after a while, so that it never reaches the next one.
  void flush_mmds() {
    const in_addr alias = ipv4(net::kMmdsSlirpAlias);
    while (!mmds_out.empty()) {
      const size_t room = slirp_socket_can_recv(slirp, alias, 80);
      if (room == 0) break;
      const size_t n = std::min(room, mmds_out.size());
      slirp_socket_recv(slirp, alias, 80, reinterpret_cast<const uint8_t*>(mmds_out.data()),
                        static_cast<int>(n));
      mmds_out.erase(0, n);
      mmds_out_since = std::chrono::steady_clock::now();
    }
    if (mmds_out.empty() || mmds_retry_armed) return;
    if (std::chrono::steady_clock::now() - mmds_out_since > kMmdsReplyPatience) {
      mmds_out.clear();
      return;
    }
    mmds_retry_armed = true;
    loop.add_timer(std::chrono::milliseconds(20), [weak = weak_from_this()] {
      auto s = weak.lock();
      if (!s || s->torn_down) return;
      s->mmds_retry_armed = false;
      s->flush_mmds();
      s->schedule_cycle();
    });
  }

  static void guest_error(const char* msg, void*) {
    // Guest-triggered: debug level, and limited even then.
    static LogLimiter limiter;
    log_limited(limiter, LogLevel::kDebug, "slirp: guest error: {}", msg);
  }

  static int64_t clock_get_ns(void*) { return now_ns(); }

  Timer* new_timer() {
    auto t = std::make_unique<Timer>();
    t->generation = next_generation++;
    Timer* raw = t.get();
    timers.emplace(raw, std::move(t));
    return raw;
  }

  static void* timer_new(SlirpTimerCb cb, void* cb_opaque, void* opaque) {
    Timer* t = from(opaque).new_timer();
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    return t;
  }

  static void* timer_new_opaque(SlirpTimerId id, void* cb_opaque, void* opaque) {
    Timer* t = from(opaque).new_timer();
    t->id = id;
    t->cb_opaque = cb_opaque;
    return t;
  }

  static void timer_free(void* timer, void* opaque) {
    Impl& self = from(opaque);
    auto it = self.timers.find(static_cast<Timer*>(timer));
    if (it == self.timers.end()) return;
    if (it->second->armed) self.loop.cancel_timer(it->second->loop_timer);
    self.timers.erase(it);
  }

  static void timer_mod(void* timer, int64_t expire_ms, void* opaque) {
    Impl& self = from(opaque);
    auto it = self.timers.find(static_cast<Timer*>(timer));
    if (it == self.timers.end() || self.torn_down) return;
    Timer& t = *it->second;
    if (t.armed) self.loop.cancel_timer(t.loop_timer);
    const int64_t now_ms = now_ns() / 1'000'000;
    const int64_t delay_ms = expire_ms > now_ms ? expire_ms - now_ms : 0;
    t.armed = true;
    t.loop_timer = self.loop.add_timer(
        std::chrono::milliseconds(delay_ms),
        [weak = self.weak_from_this(), ptr = &t, generation = t.generation] {
          auto s = weak.lock();
          if (!s || s->torn_down) return;
          auto found = s->timers.find(ptr);
          if (found == s->timers.end() || found->second->generation != generation) return;
          Timer& fired = *found->second;
          fired.armed = false;
          if (fired.cb != nullptr) {
            fired.cb(fired.cb_opaque);
          } else {
            slirp_handle_timer(s->slirp, fired.id, fired.cb_opaque);
          }
          s->schedule_cycle();
        });
  }

  static void register_poll_fd(int, void*) {}  // learnt from slirp_pollfds_fill instead

  static void unregister_poll_fd(int fd, void* opaque) {
    // slirp is about to close fd: drop it from epoll while the number still means this socket.
    Impl& self = from(opaque);
    if (self.watched.erase(fd) != 0) self.loop.remove_fd(fd);
  }

  static void notify(void* opaque) { from(opaque).schedule_cycle(); }

  // --- state save and load (the loop thread's, or the loop parked) ---

  static ssize_t append_state(const void* buf, size_t len, void* opaque) {
    auto& out = *static_cast<std::vector<uint8_t>*>(opaque);
    const auto* p = static_cast<const uint8_t*>(buf);
    out.insert(out.end(), p, p + len);
    return static_cast<ssize_t>(len);
  }

  // libslirp reads through this; a read past the end is short (libslirp then carries on with
  // zeros), and noticed after.
  struct StateSource {
    std::span<const uint8_t> rest;
    bool short_read = false;
  };
  static ssize_t read_state(void* buf, size_t len, void* opaque) {
    auto& src = *static_cast<StateSource*>(opaque);
    const size_t n = std::min(len, src.rest.size());
    if (n < len) src.short_read = true;
    if (n != 0) std::memcpy(buf, src.rest.data(), n);
    src.rest = src.rest.subspan(n);
    return static_cast<ssize_t>(n);
  }

  std::vector<uint8_t> save() {
    std::vector<uint8_t> stream;
    if (!torn_down) slirp_state_save(slirp, &Impl::append_state, &stream);
    return net::frame_slirp_state(static_cast<uint32_t>(slirp_state_version()), stream);
  }

  Result<void> load(const net::SlirpState& state) {
    if (torn_down) return make_error("user network state: the network is closed");
    StateSource src{state.stream};
    const int rc =
        slirp_state_load(slirp, static_cast<int>(state.version), &Impl::read_state, &src);
    if (rc < 0) {
      return make_error(
          fmt::format("user network state: libslirp refused it ({})", std::strerror(-rc)));
    }
    // check_slirp_stream walked the same bytes: libslirp reading otherwise is a layout this
    // Vessel does not know.
    if (src.short_read || !src.rest.empty()) {
      return make_error("user network state: libslirp read it otherwise than it was checked");
    }
    // The poll set and timers of what was loaded; before start(), its first cycle does that.
    if (receiver) schedule_cycle();
    return {};
  }
};

namespace {
// slirp keeps this pointer for the life of the stack.
const SlirpCb kCallbacks = {
    .send_packet = &SlirpBackend::Impl::send_packet,
    .guest_error = &SlirpBackend::Impl::guest_error,
    .clock_get_ns = &SlirpBackend::Impl::clock_get_ns,
    .timer_new = &SlirpBackend::Impl::timer_new,
    .timer_free = &SlirpBackend::Impl::timer_free,
    .timer_mod = &SlirpBackend::Impl::timer_mod,
    .register_poll_fd = &SlirpBackend::Impl::register_poll_fd,
    .unregister_poll_fd = &SlirpBackend::Impl::unregister_poll_fd,
    .notify = &SlirpBackend::Impl::notify,
    .init_completed = nullptr,
    .timer_new_opaque = &SlirpBackend::Impl::timer_new_opaque,
};
}  // namespace

SlirpBackend::SlirpBackend(EventLoop& loop) : loop_(loop), impl_(std::make_shared<Impl>(loop)) {}

Result<std::unique_ptr<SlirpBackend>> SlirpBackend::create(EventLoop& loop, const NetSpec& spec,
                                                           std::shared_ptr<net::MmdsStore> mmds) {
  std::unique_ptr<SlirpBackend> backend(new SlirpBackend(loop));
  Impl& impl = *backend->impl_;

  SlirpConfig cfg{};
  cfg.version = 4;
  cfg.restricted = spec.restricted ? 1 : 0;
  cfg.in_enabled = true;
  cfg.vnetwork = ipv4(kNetwork);
  cfg.vnetmask = ipv4(kNetmask);
  cfg.vhost = ipv4(kHost);
  cfg.in6_enabled = false;
  cfg.vdhcp_start = ipv4(kDhcpStart);
  cfg.vnameserver = ipv4(kNameserver);
  cfg.disable_host_loopback = !spec.host_loopback;
  cfg.enable_emu = false;
  cfg.disable_dns = false;
  cfg.disable_dhcp = false;
  impl.slirp = slirp_new(&cfg, &kCallbacks, &impl);
  if (impl.slirp == nullptr) return make_error("--net user: libslirp could not start");

  if (spec.mmds) {
    if (!mmds) return make_error("--net user,mmds=on: the VM has no metadata store");
    impl.mmds = std::move(mmds);
    impl.mmds_address = impl.mmds->address();
    impl.mmds_session = std::make_unique<net::MmdsSession>(*impl.mmds);
    in_addr alias = ipv4(net::kMmdsSlirpAlias);
    if (slirp_add_guestfwd(impl.slirp, &Impl::mmds_write, &impl, &alias, 80) != 0) {
      return make_error("--net user,mmds=on: libslirp refused the metadata service's address");
    }
  }
  for (const HostForward& fwd : spec.hostfwd) {
    const uint32_t guest = fwd.guest_addr != 0 ? fwd.guest_addr : kDhcpStart;
    errno = 0;
    const int rc =
        slirp_add_hostfwd(impl.slirp, fwd.protocol == HostForward::Protocol::kUdp,
                          ipv4(fwd.host_addr), fwd.host_port, ipv4(guest), fwd.guest_port);
    if (rc < 0) {
      const int err = errno;
      // slirp keeps bind(2)'s errno; with none, a taken port is by far the likeliest cause.
      const std::string why =
          err == 0 || err == EADDRINUSE ? "port in use" : std::string(std::strerror(err));
      return make_error(fmt::format("hostfwd {}: {}", fwd.name(), why));
    }
  }
  return backend;
}

SlirpBackend::~SlirpBackend() {
  if (!started_ || loop_.on_loop_thread()) {
    impl_->teardown();
    return;
  }
  loop_.post([impl = impl_] { impl->teardown(); });
  loop_.drain();
}

void SlirpBackend::start(Receiver receiver) {
  started_ = true;
  loop_.post([impl = impl_, rx = std::move(receiver)]() mutable {
    if (impl->torn_down) return;
    impl->receiver = std::move(rx);
    impl->cycle();
  });
}

std::vector<uint8_t> SlirpBackend::save_state() { return impl_->save(); }

Result<void> SlirpBackend::load_state(std::span<const uint8_t> state) {
  const net::SlirpState checked = TRY(net::parse_slirp_state(state, impl_->mmds != nullptr));
  if (slirp_state_version() != static_cast<int>(net::kSlirpStateVersion)) {
    return make_error(fmt::format(
        "user network state: this libslirp's state version is {}, Vessel checks version {}",
        slirp_state_version(), net::kSlirpStateVersion));
  }
  if (!started_ || loop_.on_loop_thread()) return impl_->load(checked);
  std::promise<Result<void>> done;
  loop_.post([impl = impl_, &checked, &done] { done.set_value(impl->load(checked)); });
  return done.get_future().get();
}

void SlirpBackend::send(std::span<const uint8_t> frame) {
  if (impl_->torn_down || frame.size() < kMinFrameSize || frame.size() > kMaxFrameSize) return;
  if (impl_->mmds && impl_->receiver) {
    if (auto reply = net::mmds_arp_reply(frame, impl_->mmds_address)) {
      impl_->receiver(*reply);
      return;
    }
  }
  if (impl_->mmds && net::ipv4_address_is(frame, false, impl_->mmds_address)) {
    std::vector<uint8_t> copy(frame.begin(), frame.end());
    net::rewrite_ipv4_address(copy, false, impl_->mmds_address, net::kMmdsSlirpAlias);
    slirp_input(impl_->slirp, copy.data(), static_cast<int>(copy.size()));
  } else {
    slirp_input(impl_->slirp, frame.data(), static_cast<int>(frame.size()));
  }
  impl_->schedule_cycle();
}

}  // namespace vessel
