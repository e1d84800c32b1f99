// Which host files an API client may name: a kernel, an initrd, firmware, a disk. A client of
// the daemon, or of a VM's API socket, is not trusted with the host's file system as the
// command line is: without a check, /etc/shadow became a disk at create and /proc/self/mem a
// drive. So a path a request names is resolved first (realpath: symbolic links and "..", so
// that neither leads elsewhere), and then the file it resolves to must
//   - not be in the kernel's pseudo file systems (/proc, /sys, and /dev but for a disk that is
//     a block device there), wherever they are mounted;
//   - be a regular file (a disk: or a block device; a log or metrics output: or a FIFO);
//   - lie inside one of the allowed directories, when the policy confines (the daemon always
//     does: its images directory and --allow-dir; `vessel run --api-sock` with --api-allow-dir),
//     and not inside a protected one (the daemon's state directory, whose token, definitions
//     and sockets are its own) unless an allowed directory inside that protected one holds it;
//   - be readable by Vessel (a disk not read-only: and writable).
// Errors are one line naming the request's field and the path.
//
// What this cannot stop: someone who may write into an allowed directory can swap what a
// checked name points to before the VM opens it. The daemon and the per-VM API hand the
// resolved path on and check again at the start, which narrows that to the moment between
// the check and the open.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace vessel::api {

enum class HostFileUse {
  kImage,   // read into guest RAM (kernel, initrd, firmware): a regular file
  kDisk,    // a virtio-blk disk: a regular file or a block device
  kOutput,  // what Vessel appends to (PUT /logger, /metrics): a regular file or a named pipe
};

class HostFilePolicy {
 public:
  // Anywhere outside the pseudo file systems: `vessel run --api-sock` without --api-allow-dir.
  HostFilePolicy() = default;
  // Only inside `dirs`, each of which must be a directory (resolved here). Errors name
  // `option` and the directory.
  static Result<HostFilePolicy> confined_to(const std::vector<std::string>& dirs,
                                            std::string_view option);
  // Nothing inside `dir` (which must exist; resolved here) but what an allowed directory inside
  // it holds.
  Result<void> protect(const std::string& dir);

  // The resolved path of a file a client may use so; else an error naming `field` and `path`.
  Result<std::string> check(std::string_view field, const std::string& path, HostFileUse use,
                            bool writable) const;

  // A file the VM is to create or replace (a snapshot's): its directory resolved, the same
  // places refused, an existing file only when it is a regular one (not followed if it is a
  // symbolic link), and the directory writable. Returns the resolved path.
  Result<std::string> check_new(std::string_view field, const std::string& path) const;
  // A Unix socket Vessel is to create (PUT /vsock's uds_path): its directory must exist and be
  // a place the client may use, and the name must be free or an old socket. The resolved path.
  Result<std::string> check_new_socket(std::string_view field, const std::string& path) const;

  // Added to the error for a path that does not exist (`vessel run --jail`: a file outside the
  // bound directories is not there at all, and the error should say why).
  void set_missing_hint(std::string hint) { missing_hint_ = std::move(hint); }

  bool confines() const { return confined_; }
  // The allowed directories, resolved.
  const std::vector<std::string>& allowed() const { return allowed_; }

 private:
  Result<void> check_place(std::string_view field, const std::string& named,
                           const std::string& resolved) const;

  // An errno text, with the hint when the file is missing.
  std::string missing(int err) const;

  bool confined_ = false;
  std::string missing_hint_;
  std::vector<std::string> allowed_;
  std::vector<std::string> protected_;
};

}  // namespace vessel::api
