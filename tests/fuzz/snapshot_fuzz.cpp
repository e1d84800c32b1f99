// libFuzzer target for the snapshot loader (vmm/snapshot): the first byte picks the layer.
//   0: a whole state file through snapshot::parse (container, checksums, versions,
//      configuration, disks, memory description).
//   1: the rest as a machine's state (past the checksum, as a corrupt file that kept its CRC
//      would be) through VirtMachine::restore_state into one small machine: 16 MiB, one hart,
//      the builtin SBI and virtio-rng, as `vessel run --memory 16M` builds it.
//   2: a whole state file through snapshot::rebind with no disks and no networks (the daemon's
//      restores and clones): a file it accepts must come out as one parse accepts again.
//   3: the rest as a user network's saved state (a snapshot's `net` entry, past the checksum)
//      through SlirpBackend::load_state into a new libslirp with mmds=on: what the check
//      (host/net/slirp_state.hpp) lets through, libslirp loads, and saves again as a state
//      the check accepts.
// Each is refused with an error or restored; nothing else may happen.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "host/net/mmds.hpp"
#include "host/net/slirp_backend.hpp"
#include "host/net/slirp_state.hpp"
#include "vmm/snapshot/snapshot.hpp"

namespace {

vessel::VirtMachine* fuzz_machine() {
  static vessel::VirtMachine* machine = [] {
    const std::string path = "/tmp/vessel-snapshot-fuzz-" + std::to_string(getpid());
    vessel::VirtConfig config;
    config.ram_size = 16ULL << 20;
    config.builtin_sbi = true;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || ftruncate(fileno(f), static_cast<off_t>(config.ram_size)) != 0) abort();
    std::fclose(f);
    const vessel::VirtRestore restore{path};
    auto m = vessel::VirtMachine::create(config, {[](uint8_t) {}, [](vessel::PowerRequest) {}},
                                         &restore);
    unlink(path.c_str());  // the mapping keeps it
    if (!m.ok()) abort();
    return m->release();
  }();
  return machine;
}

// A fresh libslirp for each input (what one load leaves, the next must not see). Its loop
// never runs: a backend that has not started loads on the caller's thread.
void load_user_net_state(const uint8_t* data, size_t size) {
  static vessel::EventLoop loop;
  vessel::NetSpec spec;
  spec.mmds = true;
  auto backend =
      vessel::SlirpBackend::create(loop, spec, std::make_shared<vessel::net::MmdsStore>());
  if (!backend.ok()) abort();
  if (!(*backend)->load_state({data, size}).ok()) return;
  if (!vessel::net::parse_slirp_state((*backend)->save_state(), true).ok()) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] == 0) {
    (void)vessel::snapshot::parse(data + 1, size - 1);
  } else if (data[0] == 3) {
    load_user_net_state(data + 1, size - 1);
  } else if (data[0] == 2) {
    auto rebound = vessel::snapshot::rebind(data + 1, size - 1, {}, {});
    if (rebound.ok() && !vessel::snapshot::parse(rebound->data(), rebound->size()).ok()) abort();
  } else {
    vessel::StateReader in(data + 1, size - 1);
    (void)fuzz_machine()->restore_state(in);
  }
  return 0;
}
