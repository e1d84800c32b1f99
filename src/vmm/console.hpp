// The guest's serial console on the host side: where its output goes (the terminal, or the
// viewers of a console socket, and a log on disk) and where its input comes from. One
// VmConsole serves every machine of a run: a reboot builds a new machine, and the socket, its
// viewers and the log stay.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "host/console_log.hpp"
#include "host/console_server.hpp"
#include "host/terminal.hpp"

namespace vessel {

class Uart16550;

struct ConsoleOptions {
  // --console-socket PATH: the console goes to the socket's viewers instead of the terminal.
  std::optional<std::string> socket;
  // --console-log PATH[,size=N]: the output also goes to a bounded log on disk.
  std::optional<std::string> log;
};

struct ConsoleLogSpec {
  std::string path;
  uint64_t size = ConsoleLog::kDefaultSize;
};
// "PATH" or "PATH,size=N" (N as --memory takes it: 64K, 1M, ...), for --console-log and
// --log-file. Errors name the option.
Result<ConsoleLogSpec> parse_log_ring_option(std::string_view option, const std::string& text);

class VmConsole {
 public:
  // Checks every option without changing anything. Errors name the option.
  static Result<void> check(const ConsoleOptions& options);
  // Checks, then creates the socket (if any), which serves viewers from then on.
  static Result<std::unique_ptr<VmConsole>> open(const ConsoleOptions& options);
  ~VmConsole();

  // Guest output (UART, HTIF, SBI console) from any hart. Never waits for a viewer or the
  // disk; with the terminal it writes to stdout as before.
  void output(uint8_t byte);
  // The UART that input goes to, nullptr between machines. Once this returns, nothing is
  // being delivered to the previous one; input that arrives meanwhile waits for the next.
  void set_uart(Uart16550* uart);
  // Starts reading the terminal, unless the console is on a socket (whose viewers are served
  // from open() on). Ctrl-A x on the terminal calls on_quit; Ctrl-A c opens a monitor whose
  // command lines `monitor` answers (none: no monitor); Ctrl-A t toggles timestamps on the
  // terminal's output.
  Result<void> start(std::function<void()> on_quit,
                     std::function<std::string(const std::string&)> monitor = {});
  // Stops reading the terminal (restoring it) and forgets the UART: call it before the
  // machine goes. Idempotent.
  void stop();

  // For tests: the parts, or null.
  ConsoleServer* server() { return server_.get(); }
  ConsoleLog* log() { return log_.get(); }

 private:
  VmConsole() = default;
  void deliver(const uint8_t* data, size_t len);
  bool wants_input();

  std::unique_ptr<ConsoleServer> server_;
  std::unique_ptr<ConsoleLog> log_;
  // Ctrl-A t: "[hh:mm:ss.mmm] " before each line on the terminal, the time since open().
  void write_timestamp();

  std::unique_ptr<Terminal> terminal_;  // without a socket
  std::atomic<bool> timestamps_{false};
  std::atomic<bool> line_start_{true};  // the next byte to the terminal begins a line
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  std::mutex input_mu_;  // guards uart_ and held_
  Uart16550* uart_ = nullptr;
  std::vector<uint8_t> held_;  // input that arrived while there was no UART
};

}  // namespace vessel
