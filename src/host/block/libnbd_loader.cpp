#include "host/block/libnbd_loader.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <mutex>
#include <string>

namespace vessel::block {

namespace {

// libnbd's soname has been libnbd.so.0 since its first stable release (1.0).
constexpr const char* kLibNbd = "libnbd.so.0";

struct Loaded {
  LibNbd table;
  std::string error;  // empty: loaded
};

Loaded load() {
  Loaded out;
  // Never closed: handles and their callbacks live as long as the process.
  void* so = dlopen(kLibNbd, RTLD_NOW | RTLD_LOCAL);
  if (so == nullptr) {
    const char* why = dlerror();
    out.error = fmt::format("NBD disks need {}: {}", kLibNbd, why != nullptr ? why : "not found");
    return out;
  }
#define VESSEL_LIBNBD_RESOLVE(name)                                                           \
  out.table.name = reinterpret_cast<decltype(&::name)>(dlsym(so, #name));                     \
  if (out.table.name == nullptr) {                                                            \
    out.error = fmt::format("NBD disks need {} with {}(): too old a libnbd", kLibNbd, #name); \
    return out;                                                                               \
  }
  VESSEL_LIBNBD_FUNCTIONS(VESSEL_LIBNBD_RESOLVE)
#undef VESSEL_LIBNBD_RESOLVE
  return out;
}

}  // namespace

Result<const LibNbd*> load_libnbd() {
  static const Loaded loaded = load();  // C++ makes the first call's initialization thread-safe
  if (!loaded.error.empty()) return make_error(loaded.error);
  return &loaded.table;
}

}  // namespace vessel::block
