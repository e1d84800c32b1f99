#include "vmm/console.hpp"

#include <fmt/format.h>

#include "board/loader.hpp"
#include "board/virt.hpp"
#include "devices/uart16550/uart16550.hpp"

namespace vessel {

Result<ConsoleLogSpec> parse_log_ring_option(std::string_view option, const std::string& text) {
  ConsoleLogSpec spec;
  const size_t comma = text.find(',');
  spec.path = text.substr(0, comma);
  if (spec.path.empty()) return make_error(fmt::format("{} '{}': no path", option, text));
  if (comma == std::string::npos) return spec;
  const std::string setting = text.substr(comma + 1);
  if (setting.rfind("size=", 0) != 0) {
    return make_error(
        fmt::format("{} '{}': unknown setting '{}' (expected size=N)", option, text, setting));
  }
  const std::string size_text = setting.substr(5);
  auto size = parse_size(size_text);
  if (!size) {
    return make_error(fmt::format("{} size={}: {}", option, size_text, size.error().message));
  }
  if (*size < ConsoleLog::kMinSize || *size > ConsoleLog::kMaxSize) {
    return make_error(fmt::format("{} size={}: must be between {} and {}", option, size_text,
                                  format_size(ConsoleLog::kMinSize),
                                  format_size(ConsoleLog::kMaxSize)));
  }
  spec.size = *size;
  return spec;
}

Result<void> VmConsole::check(const ConsoleOptions& options) {
  if (options.socket) {
    if (auto r = ConsoleServer::check_path(*options.socket); !r) {
      return make_error("--console-socket " + r.error().message);
    }
  }
  if (options.log) {
    const ConsoleLogSpec spec = TRY(parse_log_ring_option("--console-log", *options.log));
    if (auto r = ConsoleLog::check(spec.path, spec.size); !r) {
      return make_error("--console-log " + r.error().message);
    }
    if (options.socket && *options.socket == spec.path) {
      return make_error(
          fmt::format("--console-log {}: the same path as --console-socket", spec.path));
    }
  }
  return {};
}

Result<std::unique_ptr<VmConsole>> VmConsole::open(const ConsoleOptions& options) {
  // Everything is checked before anything starts: a refused socket leaves no log thread.
  TRY_VOID(check(options));
  std::unique_ptr<VmConsole> console(new VmConsole());
  VmConsole* raw = console.get();
  if (options.log) {
    const ConsoleLogSpec spec = TRY(parse_log_ring_option("--console-log", *options.log));
    auto log = ConsoleLog::open(spec.path, spec.size);
    if (!log) return make_error("--console-log " + log.error().message);
    console->log_ = std::move(log.value());
  }
  if (options.socket) {
    auto server = ConsoleServer::listen(
        *options.socket, [raw](const uint8_t* data, size_t len) { raw->deliver(data, len); },
        [raw] { return raw->wants_input(); });
    if (!server) return make_error("--console-socket " + server.error().message);
    console->server_ = std::move(server.value());
  } else {
    console->terminal_ = std::make_unique<Terminal>();
  }
  return console;
}

VmConsole::~VmConsole() {
  stop();
  // The socket first: its I/O thread calls deliver(), which must not outlive this object.
  server_.reset();
}

void VmConsole::output(uint8_t byte) {
  if (server_) {
    server_->write(&byte, 1);
  } else if (terminal_) {
    if (timestamps_.load(std::memory_order_relaxed) &&
        line_start_.load(std::memory_order_relaxed)) {
      write_timestamp();
    }
    line_start_.store(byte == '\n', std::memory_order_relaxed);
    terminal_->write_byte(byte);
  }
  if (log_) log_->write(&byte, 1);
}

void VmConsole::set_uart(Uart16550* uart) {
  std::lock_guard<std::mutex> lock(input_mu_);
  uart_ = uart;
  if (uart_ != nullptr && !held_.empty()) {
    uart_->push_input(held_.data(), held_.size());
    held_.clear();
  }
}

void VmConsole::deliver(const uint8_t* data, size_t len) {
  std::lock_guard<std::mutex> lock(input_mu_);
  if (uart_ != nullptr) {
    uart_->push_input(data, len);
  } else {
    // Only what was read before the UART went: wants_input() is false until the next one.
    held_.insert(held_.end(), data, data + len);
  }
}

bool VmConsole::wants_input() {
  std::lock_guard<std::mutex> lock(input_mu_);
  return uart_ != nullptr && uart_->wants_input();
}

void VmConsole::write_timestamp() {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0_)
          .count();
  const std::string stamp = fmt::format("[{:02}:{:02}:{:02}.{:03}] ", ms / 3600000, ms / 60000 % 60,
                                        ms / 1000 % 60, ms % 1000);
  terminal_->write(reinterpret_cast<const uint8_t*>(stamp.data()), stamp.size());
}

Result<void> VmConsole::start(std::function<void()> on_quit,
                              std::function<std::string(const std::string&)> monitor) {
  if (log_) log_->create();  // the VM runs now: its log is there before its first byte
  if (!terminal_) return {};
  Terminal::Controls controls;
  controls.monitor = std::move(monitor);
  controls.toggle_timestamps = [this] {  // only the input thread toggles
    const bool on = !timestamps_.load(std::memory_order_relaxed);
    timestamps_.store(on, std::memory_order_relaxed);
    return on;
  };
  controls.send_break = [this] {
    std::lock_guard<std::mutex> lock(input_mu_);
    if (uart_ != nullptr) uart_->push_break();
  };
  terminal_->set_controls(std::move(controls));
  return terminal_->start([this](const uint8_t* data, size_t len) { deliver(data, len); },
                          std::move(on_quit), [this] { return wants_input(); });
}

void VmConsole::stop() {
  if (terminal_) terminal_->stop();
  set_uart(nullptr);
}

}  // namespace vessel
