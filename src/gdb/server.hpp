// `vessel run --gdb tcp:PORT|unix:PATH [--gdb-wait]`: a GDB remote-protocol server on its own
// thread, one client at a time. A client that connects halts every hart (all-stop); while
// it is connected, each hart is a GDB thread. A detach, or a client that goes away, leaves
// the VM running with no breakpoint left behind.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/result.hpp"
#include "board/virt.hpp"
#include "cpu/riscv/debug_control.hpp"
#include "gdb/stub.hpp"
#include "gdb/vm_target.hpp"

namespace vessel::gdb {

class Connection;

class GdbServer {
 public:
  // Binds and listens at once, so that a bad --gdb or a port in use is refused before the VM
  // starts: "tcp:PORT" listens on 127.0.0.1 only, "unix:PATH" on a socket it creates (and
  // removes at the end). Errors are one line naming --gdb.
  static Result<std::unique_ptr<GdbServer>> listen(const std::string& spec, unsigned num_harts);
  ~GdbServer();
  GdbServer(const GdbServer&) = delete;
  GdbServer& operator=(const GdbServer&) = delete;

  // The machine whose harts it debugs, before they run (nullptr while a reboot replaces it).
  void set_machine(VirtMachine* machine);
  // Serves on its own thread. With `wait` no hart runs an instruction until a client resumes
  // it. `kill` ends the VM (GDB's kill).
  void start(bool wait, std::function<void()> kill);
  // The VM ended with `status`: a client waiting for a stop hears so, and the thread ends.
  void vm_ended(int status);

 private:
  GdbServer(int listen_fd, std::string unix_path, unsigned num_harts);
  void run();
  void serve(int fd);
  // Halts every hart and waits until they have (or the VM ends); freezes guest time.
  void halt_and_wait();
  void resume(const std::vector<rv::DebugControl::Action>& actions);
  // A client left: breakpoints go, and the harts run on.
  void release();
  StopInfo stop_info(std::optional<rv::DebugControl::Event> e, int signal) const;

  int listen_fd_;
  std::string unix_path_;
  rv::DebugControl control_;
  std::mutex machine_mu_;
  VirtMachine* machine_ = nullptr;    // under machine_mu_
  std::unique_ptr<VmTarget> target_;  // under machine_mu_
  bool clock_frozen_ = false;         // under machine_mu_
  std::function<void()> kill_;
  std::atomic<bool> ending_{false};
  std::atomic<int> status_{0};
  std::thread thread_;
};

}  // namespace vessel::gdb
