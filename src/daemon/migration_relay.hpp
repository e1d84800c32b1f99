// The destination daemon's end of a migration (docs/migration.md): a one-time TCP port on
// loopback where the source VM connects, whose bytes go both ways to and from the incoming
// VM's Unix socket in its state dir. The daemon carries the stream; the VM process checks it
// (the ticket in its HELLO, the format, the machine).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.hpp"

namespace vessel::daemon {

// Listens on 127.0.0.1 (any free port) and serves one connection, carried to `unix_path`
// once the VM listens there, on a thread of its own; the port is returned. Nobody connecting
// within a minute ends it.
Result<uint16_t> start_migration_relay(const std::string& unix_path);

}  // namespace vessel::daemon
