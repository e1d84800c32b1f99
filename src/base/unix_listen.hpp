// A listening Unix socket whose path appears only once it accepts connections.
//
// bind() creates a socket's file and listen() comes after it: a client that waits for the file
// to exist and connects in between is refused (CI's tests met that gap in nbdkit's). So the
// socket is bound under a temporary name beside its path, given mode 0600 (before listen()
// nobody can connect, so there is no moment with a wider mode), made to listen, and only then
// renamed to its path, atomically.
#pragma once

#include <string>

#include "base/result.hpp"

namespace vessel {

// Listens on `path`, which the caller has checked (nothing there, or a stale socket it
// removed). `flags` adds to SOCK_STREAM | SOCK_CLOEXEC (SOCK_NONBLOCK). Returns the
// descriptor; an error names `path`, the step that failed and why, in one line.
Result<int> listen_unix(const std::string& path, int backlog, int flags = 0);

// Whether `path` fits a Unix socket address (1 to 107 bytes): listen_unix's first check, for a
// caller that looks at the path before it listens. The error names `path`, in one line.
Result<void> check_unix_socket_path(const std::string& path);

// Whether a server accepts connections on the socket at `path`, which tells a live socket from
// a stale one that a process left behind. A connection that fails for any other reason than
// nobody listening (ECONNREFUSED) or no such file (ENOENT) counts as live: a socket that
// cannot be probed is not to be removed.
bool unix_socket_live(const std::string& path);

}  // namespace vessel
