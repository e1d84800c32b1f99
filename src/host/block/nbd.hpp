// A disk served over the Network Block Device protocol, through libnbd's asynchronous API
// (nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=PATH, and the TLS forms libnbd knows).
// This is how Vessel reads qcow2 and the other image formats: qemu-nbd or nbdkit decodes the
// format, and Vessel sees the disk's bytes. It is also storage that two hosts can share.
//
// A server that disconnects, stalls past the request timeout or answers with errors gives the
// guest I/O errors; the VM keeps running, and the backend reconnects in the background.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "host/block/block_backend.hpp"

namespace vessel::block {

// True for the URI schemes libnbd connects to: nbd, nbds, nbd+unix, nbds+unix, nbd+vsock...
bool is_nbd_uri(std::string_view text);

struct NbdSettings {
  std::string uri;
  bool read_only = false;
  // A request that has not completed after this long drops the connection: it and every
  // other request in flight fail with EIO, and the backend reconnects.
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
};

// Loads libnbd now (open_nbd does it on first use), for a process about to lose sight of the
// host's libraries: a jailed VM, before its pivot_root. A one-line error when it cannot.
Result<void> preload_nbd();

// Connects (blocking, before the guest starts, so that a wrong URI is a one-line error) and
// reads the export's size and capabilities.
Result<std::unique_ptr<BlockBackend>> open_nbd(const NbdSettings& settings);

}  // namespace vessel::block
