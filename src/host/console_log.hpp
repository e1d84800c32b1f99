// The console's output on disk, as a bounded ring of two files: PATH holds the newest bytes and
// PATH.1 the ones before them. When PATH reaches half the size it is renamed to PATH.1 (the
// older PATH.1 goes) and a new PATH begins, so the two never hold more than the size, and a
// reader gets the output in order by reading PATH.1, then PATH.
//
// Each file starts with kConsoleLogHeader, which is how a later run knows the files are a ring
// it may trim and rename: an existing PATH or PATH.1 without it (someone else's file) is
// refused, never overwritten. Readers (`vessel logs`, the daemon's scrollback) leave it out.
//
// A later run with the same PATH continues the ring (what a VM printed before it was restarted
// is often what one wants to read), trimming files an earlier, larger size left.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/result.hpp"

namespace vessel {

inline constexpr char kConsoleLogHeader[] = "vessel console log\n";

// The two files, written on the caller's thread. Nothing is created before the first append.
class LogRing {
 public:
  LogRing(std::string path, uint64_t size);
  ~LogRing();
  LogRing(const LogRing&) = delete;
  LogRing& operator=(const LogRing&) = delete;

  // Appends, rotating whenever PATH reaches half the size. Errors name the file.
  Result<void> append(const uint8_t* data, size_t len);
  uint64_t half() const { return half_; }

 private:
  Result<void> open_current();
  Result<void> rotate();

  std::string path_;
  uint64_t half_;
  int fd_ = -1;
  uint64_t used_ = 0;  // bytes in PATH
};

// A LogRing fed from any thread and written on a thread of its own, so that the harts never
// wait for the disk. Output reaches the file within kBatchDelay.
class ConsoleLog {
 public:
  static constexpr uint64_t kDefaultSize = 1 << 20;
  static constexpr uint64_t kMinSize = 4 << 10;
  static constexpr uint64_t kMaxSize = 1ULL << 30;
  // Output waiting for the writer beyond this (a disk that stalls) is dropped and counted.
  static constexpr size_t kPendingLimit = 4 << 20;
  // How long the writer lets output gather before writing it: fewer, larger writes, and a
  // reader still sees the output well within a second.
  static constexpr auto kBatchDelay = std::chrono::milliseconds(50);

  // Checks without changing anything: the size is within bounds, the directory exists, and
  // PATH and PATH.1 are, if they exist, regular files this process may write that are empty or
  // a console log's (they start with kConsoleLogHeader).
  static Result<void> check(const std::string& path, uint64_t size);
  static Result<std::unique_ptr<ConsoleLog>> open(const std::string& path, uint64_t size);
  // Writes what is still pending, then stops the writer.
  ~ConsoleLog();
  ConsoleLog(const ConsoleLog&) = delete;
  ConsoleLog& operator=(const ConsoleLog&) = delete;

  // Creates PATH (with the header) if it is not there yet, and returns once the writer has:
  // a VM's log exists from its start, even before the guest prints anything. Called once the
  // VM is sure to run, so that a refused command line leaves no file. A failure is the
  // writer's warning, as for output.
  void create();
  // Any thread; never waits for the disk.
  void write(const uint8_t* data, size_t len);
  // Returns once everything written before the call is in the files.
  void flush();
  // Bytes lost: the writer fell kPendingLimit behind, or the files could not be written.
  uint64_t dropped() const;

 private:
  ConsoleLog(const std::string& path, uint64_t size);
  void writer();

  LogRing ring_;
  std::string path_;
  mutable std::mutex mu_;
  std::condition_variable wake_;  // the writer: output, a flush, or the end
  std::condition_variable done_;  // flush(): more has been written
  std::vector<uint8_t> pending_;
  uint64_t accepted_ = 0;  // bytes taken by write(), ever
  uint64_t written_ = 0;   // of those, bytes the writer has finished with
  uint64_t dropped_ = 0;
  size_t flush_waiters_ = 0;
  bool create_requested_ = false;  // create(): the writer opens PATH even with nothing to write
  uint64_t passes_ = 0;            // the writer's rounds, for create() to wait for the next
  bool stopping_ = false;
  std::thread thread_;
};

// A ring an earlier Vessel wrote before its files began with kConsoleLogHeader: give PATH and
// PATH.1 the header (their bytes kept), so that a run with --console-log PATH continues them
// instead of refusing them. For the daemon, whose state directories hold only its VMs' logs;
// a file that already has the header, or does not exist, is left as it is.
Result<void> adopt_console_log(const std::string& path);

// Prints the log at PATH (PATH.1, then PATH) to out_fd; an error when neither file exists.
Result<void> print_console_log(const std::string& path, int out_fd);

}  // namespace vessel
