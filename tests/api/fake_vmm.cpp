// Stands in for `vessel run --api-sock PATH` with a fake VM, so that firecracker_replay.py can be
// checked before the real wiring exists: the same API over the same server, and the same
// process behaviour (a banner on stdout at start as a guest console would show, exit status 0
// after the Shutdown action, the socket removed on the way out).
//   fake_vmm run --api-sock PATH [other vessel run options, ignored]
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "api/firecracker/fake_vm_control.hpp"
#include "api/firecracker/firecracker_api.hpp"
#include "api/http/server.hpp"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

class ConsoleFakeVm : public vessel::api::FakeVmControl {
 public:
  vessel::Result<void> start(const vessel::VirtConfig& config) override {
    TRY_VOID(FakeVmControl::start(config));
    std::printf("fake_vmm: kernel %s, %u harts\nvessel-guest: userspace up\n",
                config.kernel.value_or("?").c_str(), config.num_harts);
    std::fflush(stdout);
    return {};
  }
  vessel::Result<void> shutdown() override {
    TRY_VOID(FakeVmControl::shutdown());
    g_stop = true;
    return {};
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string sock;
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--api-sock") sock = argv[i + 1];
  }
  if (argc < 2 || std::string(argv[1]) != "run" || sock.empty()) {
    std::fprintf(stderr, "usage: fake_vmm run --api-sock PATH\n");
    return 2;
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);

  ConsoleFakeVm vm;
  vessel::api::FirecrackerApi api(vm, {});
  vessel::http::Router router;
  api.add_routes(router);
  vessel::http::ServerOptions options;
  options.unix_path = sock;
  auto server = vessel::http::Server::start(std::move(router), options);
  if (!server.ok()) {
    std::fprintf(stderr, "fake_vmm: %s\n", server.error().message.c_str());
    return 2;
  }
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // Let the Shutdown answer leave before the socket closes.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  (*server)->stop();
  return 0;
}
