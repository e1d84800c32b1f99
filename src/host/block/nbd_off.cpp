// A build without libnbd (VESSEL_NBD off: Debian ships no static libnbd for the riscv64 build).
#include "host/block/nbd.hpp"

namespace vessel::block {

Result<void> preload_nbd() { return {}; }  // open_nbd gives the error

Result<std::unique_ptr<BlockBackend>> open_nbd(const NbdSettings& settings) {
  return make_error(settings.uri + ": NBD disks are not in this build of vessel (VESSEL_NBD=OFF)");
}

}  // namespace vessel::block
