// libnbd, loaded when the first NBD disk is opened rather than linked: the library and what it
// pulls in (GnuTLS, libxml2, ICU, p11-kit...) made up about 15 ms of every `vessel` process's
// start (a restore's, a clone's, each CLI command's), though few VMs use an NBD disk.
#pragma once

#include <libnbd.h>

#include "base/result.hpp"

namespace vessel::block {

// The libnbd functions nbd.cpp calls, each under its own name.
// (clang-format does not settle on one layout for this list.)
// clang-format off
#define VESSEL_LIBNBD_FUNCTIONS(X) \
  X(nbd_create) \
  X(nbd_close) \
  X(nbd_get_error) \
  X(nbd_connect_uri) \
  X(nbd_aio_connect_uri) \
  X(nbd_get_size) \
  X(nbd_get_block_size) \
  X(nbd_is_read_only) \
  X(nbd_can_flush) \
  X(nbd_can_trim) \
  X(nbd_can_zero) \
  X(nbd_aio_get_fd) \
  X(nbd_aio_get_direction) \
  X(nbd_aio_notify_read) \
  X(nbd_aio_notify_write) \
  X(nbd_aio_is_ready) \
  X(nbd_aio_is_closed) \
  X(nbd_aio_is_dead) \
  X(nbd_aio_pread) \
  X(nbd_aio_pwrite) \
  X(nbd_aio_flush) \
  X(nbd_aio_trim) \
  X(nbd_aio_zero)
// clang-format on

struct LibNbd {
#define VESSEL_LIBNBD_POINTER(name) decltype(&::name) name = nullptr;
  VESSEL_LIBNBD_FUNCTIONS(VESSEL_LIBNBD_POINTER)
#undef VESSEL_LIBNBD_POINTER
};

// Loads libnbd.so.0 the first time (any thread); later calls give the same table, or the same
// one-line error. A jailed VM loads it before the jail hides the host's libraries.
Result<const LibNbd*> load_libnbd();

}  // namespace vessel::block
