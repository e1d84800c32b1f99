// The viewer's side of a console socket (ConsoleServer): `vessel attach PATH`, and later
// `vessel console NAME`. The local terminal goes into raw mode when it is one, bytes are
// relayed both ways, and Ctrl-A x detaches (the VM keeps running), restoring the terminal.
#pragma once

#include <unistd.h>

#include <string>

#include "base/result.hpp"

namespace vessel {

struct AttachOptions {
  std::string path;  // the console socket
  std::string name;  // how the messages name the console; the path when empty
  int in_fd = STDIN_FILENO;
  int out_fd = STDOUT_FILENO;
  int err_fd = STDERR_FILENO;  // the escape help and the one line said on detaching
};

enum class AttachEnd {
  kDetached,  // Ctrl-A x
  kClosed,    // the VM closed the connection (it ended, or refused another viewer)
};

// Runs until the user detaches or the other side closes, and says which in one line on
// err_fd. An error (nothing listening at the path, say) is one line naming the path.
Result<AttachEnd> attach_console(const AttachOptions& options);

}  // namespace vessel
