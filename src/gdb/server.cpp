#include "gdb/server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include "base/log.hpp"
#include "base/thread_role.hpp"
#include "base/unix_listen.hpp"
#include "gdb/packet.hpp"

namespace vessel::gdb {

namespace {

using Action = rv::DebugControl::Action;

// How long a client that does not read its replies may hold the stub up.
constexpr int kSendTimeoutMs = 5000;
// How long halting may take: a hart reaches an instruction boundary within microseconds, or
// is woken from WFI by the kick at once.
constexpr auto kHaltTimeout = std::chrono::seconds(5);
// How often a running VM's stub looks for a stop while it waits for the client.
constexpr int kRunningPollMs = 10;
constexpr int kIdlePollMs = 100;

Result<int> listen_tcp(const std::string& spec, std::string_view port_text) {
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port < 1 || port > 65535) {
    return make_error(fmt::format("--gdb {}: the port must be a number from 1 to 65535", spec));
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(fmt::format("--gdb {}: socket: {}", spec, std::strerror(errno)));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // never beyond this host: no authentication
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 1) != 0) {
    const int err = errno;
    close(fd);
    return make_error(
        fmt::format("--gdb {}: cannot listen on 127.0.0.1:{}: {}", spec, port, std::strerror(err)));
  }
  return fd;
}

Result<int> listen_unix(const std::string& spec, const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return make_error(
        fmt::format("--gdb {}: the path must have 1 to {} bytes", spec, sizeof(addr.sun_path) - 1));
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    // A socket left by an earlier run is replaced; anything else is not ours to remove.
    if (!S_ISSOCK(st.st_mode)) {
      return make_error(fmt::format("--gdb {}: {} exists and is not a socket", spec, path));
    }
    unlink(path.c_str());
  }
  auto fd = vessel::listen_unix(path, 1);
  if (!fd.ok()) return make_error(fmt::format("--gdb {}: {}", spec, fd.error().message));
  return *fd;
}

// Everything, or false when the client went away or stopped reading.
bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, kSendTimeoutMs) <= 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

}  // namespace

// One client's connection: the framing both ways, acks, and the last packet for a resend.
class Connection {
 public:
  explicit Connection(int fd) : fd_(fd) {}
  bool send_packet(const std::string& payload) {
    last_ = frame(payload);
    return send_all(fd_, last_);
  }
  bool resend() { return last_.empty() || send_all(fd_, last_); }
  bool send_raw(std::string_view bytes) { return send_all(fd_, bytes); }
  // Waits up to `ms` for bytes; false when the client is gone.
  bool receive(int ms, std::vector<PacketReader::Item>& items) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = poll(&p, 1, ms);
    if (ready <= 0) return ready == 0 || errno == EINTR;
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return n < 0 && errno == EINTR;
    reader_.feed(std::string_view(buf, static_cast<size_t>(n)), items);
    return true;
  }

 private:
  int fd_;
  PacketReader reader_;
  std::string last_;
};

Result<std::unique_ptr<GdbServer>> GdbServer::listen(const std::string& spec, unsigned num_harts) {
  std::string_view rest = spec;
  if (rest.starts_with("tcp:")) {
    rest.remove_prefix(4);
    if (rest.starts_with("127.0.0.1:")) rest.remove_prefix(10);  // QEMU's spelling, also fine
    const int fd = TRY(listen_tcp(spec, rest));
    return std::unique_ptr<GdbServer>(new GdbServer(fd, {}, num_harts));
  }
  if (rest.starts_with("unix:")) {
    const std::string path(rest.substr(5));
    const int fd = TRY(listen_unix(spec, path));
    return std::unique_ptr<GdbServer>(new GdbServer(fd, path, num_harts));
  }
  return make_error(fmt::format("--gdb {}: expected tcp:PORT or unix:PATH", spec));
}

GdbServer::GdbServer(int listen_fd, std::string unix_path, unsigned num_harts)
    : listen_fd_(listen_fd), unix_path_(std::move(unix_path)), control_(num_harts) {
  target_ = std::make_unique<VmTarget>(control_);
  control_.set_kick([this] {
    std::lock_guard<std::mutex> lock(machine_mu_);
    if (machine_ != nullptr) machine_->kick_all();
  });
}

GdbServer::~GdbServer() {
  ending_ = true;
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
  if (!unix_path_.empty()) unlink(unix_path_.c_str());
}

void GdbServer::set_machine(VirtMachine* machine) {
  std::lock_guard<std::mutex> lock(machine_mu_);
  machine_ = machine;
  target_->set_machine(machine);
  clock_frozen_ = false;  // a new machine's clock starts afresh
  if (machine != nullptr) {
    for (auto& h : machine->harts()) h->set_debug_control(&control_);
  }
}

void GdbServer::start(bool wait, std::function<void()> kill) {
  kill_ = std::move(kill);
  if (wait) {
    // Before the harts' threads start: each halts at its first look, before any instruction.
    for (unsigned i = 0; i < control_.num_harts(); ++i) control_.set_action(i, Action::kHalt);
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "vessel-gdb");
    enter_thread_role(ThreadRole::kGdb);
    run();
  });
}

void GdbServer::vm_ended(int status) {
  status_ = status;
  ending_ = true;
  if (thread_.joinable()) thread_.join();
}

void GdbServer::run() {
  while (!ending_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, kIdlePollMs) <= 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    log(LogLevel::kInfo, "gdb: a client connected");
    serve(fd);
    close(fd);
    log(LogLevel::kInfo, "gdb: the client left");
  }
}

StopInfo GdbServer::stop_info(std::optional<rv::DebugControl::Event> e, int signal) const {
  StopInfo info;
  info.signal = signal;
  if (e) {
    info.hart = e->hart;
    info.signal = 5;
    info.why = e->why;
    info.watch_addr = e->addr;
  }
  return info;
}

void GdbServer::halt_and_wait() {
  control_.halt_all();
  const auto until = std::chrono::steady_clock::now() + kHaltTimeout;
  for (unsigned i = 0; i < control_.num_harts() && !ending_.load();) {
    if (control_.is_halted(i)) {
      ++i;
    } else if (std::chrono::steady_clock::now() > until) {
      log(LogLevel::kWarn, "gdb: hart {} did not halt within 5 s", i);
      ++i;
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  std::lock_guard<std::mutex> lock(machine_mu_);
  if (machine_ != nullptr && !clock_frozen_) {
    machine_->clock().freeze();  // timers do not fire while the user looks around
    clock_frozen_ = true;
  }
}

void GdbServer::resume(const std::vector<Action>& actions) {
  (void)control_.take_event();  // a stale stop, reported while halting, is not this run's
  {
    std::lock_guard<std::mutex> lock(machine_mu_);
    if (machine_ != nullptr && clock_frozen_) machine_->clock().thaw();
    clock_frozen_ = false;
  }
  for (unsigned i = 0; i < actions.size() && i < control_.num_harts(); ++i) {
    control_.set_action(i, actions[i]);
  }
  std::lock_guard<std::mutex> lock(machine_mu_);
  if (machine_ != nullptr) machine_->kick_all();
}

void GdbServer::release() {
  // Only halted harts read the lists: halt them first if the client left them running.
  halt_and_wait();
  control_.breakpoints().clear();
  control_.watches().clear();
  control_.update_watching();
  resume(std::vector<Action>(control_.num_harts(), Action::kRun));
}

void GdbServer::serve(int fd) {
  Connection conn(fd);
  Stub stub(*target_);
  halt_and_wait();
  stub.stopped(stop_info(control_.take_event(), 5));
  bool running = false;
  std::vector<PacketReader::Item> items;
  bool open = true, killed = false;
  while (open && !ending_.load()) {
    items.clear();
    open = conn.receive(running ? kRunningPollMs : kIdlePollMs, items);
    std::optional<rv::DebugControl::Event> event;
    bool interrupted = false;
    if (running) event = control_.take_event();
    for (const PacketReader::Item& item : items) {
      using K = PacketReader::Item::Kind;
      if (item.kind == K::kInterrupt) {
        interrupted = running;
      } else if (item.kind == K::kNack) {
        open = open && conn.resend();
      } else if (item.kind == K::kBadChecksum || item.kind == K::kTooLong) {
        open = open && (stub.no_ack() ? conn.send_packet("E16") : conn.send_raw("-"));
      } else if (item.kind == K::kPacket) {
        if (!stub.no_ack()) open = open && conn.send_raw("+");
        if (running) continue;  // all-stop: nothing but Ctrl-C while the guest runs
        Outcome o;
        {
          std::lock_guard<std::mutex> lock(machine_mu_);
          o = stub.handle(parse(item.payload));
        }
        if (o.then == Outcome::Then::kResume) {
          resume(o.actions);
          running = true;
        } else if (o.then == Outcome::Then::kKill) {
          if (!o.reply.empty()) (void)conn.send_packet(o.reply);
          if (kill_) kill_();
          open = false;
          killed = true;
        } else {
          open = open && conn.send_packet(o.reply);
          if (o.then == Outcome::Then::kDetach) open = false;
        }
      }
    }
    if (running && (event || interrupted)) {
      halt_and_wait();
      if (!event) event = control_.take_event();  // a breakpoint won the race with Ctrl-C
      open = open && conn.send_packet(stub.stopped(stop_info(event, 2)));
      running = false;
    }
  }
  if (ending_.load() && open && running) {
    (void)conn.send_packet(fmt::format("W{:02x}", status_.load() & 0xff));
  }
  if (!ending_.load() && !killed) release();
}

}  // namespace vessel::gdb
