// Small files written whole and read whole: a reader finds the old version or the new one,
// never half of one (the daemon's state, snapshot state files, dumped device trees).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace vessel {

// Writes PATH.tmp, fsyncs it, renames it over PATH and fsyncs the directory. Errors (a full
// disk, say) name PATH; PATH.tmp does not outlive a failure and PATH keeps its old content.
Result<void> write_file_atomically(const std::string& path, std::string_view text,
                                   mode_t mode = 0644);
// fsync of a directory, which makes a rename or a new entry in it durable. Errors name DIR.
Result<void> fsync_directory(const std::string& dir);
// The whole file, refused when over `max` bytes. Errors name the file.
Result<std::string> read_small_file(const std::string& path, size_t max);

}  // namespace vessel
