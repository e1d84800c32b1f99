#include "cli/image_cli.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "base/result.hpp"
#include "board/virt.hpp"
#include "vmm/vm.hpp"

extern char** environ;

namespace vessel::cli {

namespace {

constexpr const char* kQemuImg = "qemu-img";
// The formats qemu-img writes that people meet; raw is what `vessel run --disk` reads directly.
constexpr std::array<const char*, 7> kFormats = {"raw",  "qcow2", "qed", "vdi",
                                                 "vhdx", "vmdk",  "vpc"};
// qemu-img ran and failed (a full disk, an image it cannot read): not the command line's fault.
constexpr int kExitToolFailed = 1;
// qemu-img's messages are a few lines; more than this is not worth keeping.
constexpr size_t kStderrMax = 64 * 1024;

int bad_input(const std::string& what, const std::string& message) {
  fmt::print(stderr, "vessel: image {}: {}\n", what, message);
  return kExitBadInput;
}

// Whether `name` is an executable file in one of PATH's directories.
bool in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::string dirs = path;
  size_t start = 0;
  while (start <= dirs.size()) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
    if (access((dir + "/" + name).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

Result<void> check_format(const std::string& format) {
  for (const char* f : kFormats) {
    if (format == f) return {};
  }
  return make_error(fmt::format("format '{}' is not one of {}", format, fmt::join(kFormats, ", ")));
}

Result<void> check_source(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return make_error(fmt::format("{}: no such file", path));
    return make_error(fmt::format("{}: cannot open ({})", path, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    return make_error(fmt::format("{}: is not a regular file or block device", path));
  }
  if (access(path.c_str(), R_OK) != 0) {
    return make_error(fmt::format("{}: cannot open ({})", path, std::strerror(errno)));
  }
  return {};
}

// The new file is written beside its final name and renamed into place once qemu-img
// succeeded, so that a failure leaves neither a half-written image nor a lost old one.
Result<void> check_dest(const std::string& path, bool force) {
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!force) return make_error(fmt::format("{}: exists (--force replaces it)", path));
    if (!S_ISREG(st.st_mode)) return make_error(fmt::format("{}: is not a regular file", path));
  }
  return {};
}

std::string temp_name(const std::string& path) {
  return fmt::format("{}.vessel-tmp-{}", path, getpid());
}

// qemu-img's last message line, without its "qemu-img: " prefix.
std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const size_t nl = text.rfind('\n');
  std::string line = nl == std::string::npos ? text : text.substr(nl + 1);
  const std::string prefix = "qemu-img: ";
  if (line.rfind(prefix, 0) == 0) line.erase(0, prefix.size());
  return line.empty() ? "failed with no message" : line;
}

// Runs qemu-img with `args`; its stdout goes to ours when `show_output`, else nowhere. Returns
// its stderr's last line as the error when it fails.
Result<void> run_qemu_img(const std::vector<std::string>& args, bool show_output) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return make_error(fmt::format("cannot make a pipe: {}", std::strerror(errno)));
  }
  std::vector<char*> argv{const_cast<char*>(kQemuImg)};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (!show_output) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, kQemuImg, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    return make_error(fmt::format("cannot start {}: {}", kQemuImg, std::strerror(rc)));
  }
  std::string err;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(pipe_fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (err.size() < kStderrMax) err.append(buf, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  return make_error(fmt::format("qemu-img: {}", last_line(err)));
}

// Runs qemu-img ARGS... TEMP AFTER... to write `dest` through a temporary name, and renames it
// into place on success.
Result<void> write_through_temp(std::vector<std::string> args, const std::string& dest,
                                const std::vector<std::string>& after = {}) {
  const std::string temp = temp_name(dest);
  args.push_back(temp);
  args.insert(args.end(), after.begin(), after.end());
  auto ran = run_qemu_img(args, false);
  if (ran && rename(temp.c_str(), dest.c_str()) != 0) {
    ran = make_error(fmt::format("{}: cannot rename into place: {}", dest, std::strerror(errno)));
  }
  if (!ran) unlink(temp.c_str());
  return ran;
}

}  // namespace

ImageCommands::ImageCommands(CLI::App& app) {
  image_ = app.add_subcommand(
      "image", "Disk images in other formats, through qemu-img (package qemu-utils)");
  image_->require_subcommand(1);

  create_ = image_->add_subcommand("create", "Create an empty image of SIZE bytes");
  create_->add_option("-f,--format", format_, "raw (the default), qcow2, qed, vdi, vhdx, vmdk, vpc")
      ->default_val("raw");
  create_->add_flag("--force", force_, "Replace an existing file");
  create_->add_option("PATH", path_, "The image to create")->required();
  create_->add_option("SIZE", size_, "Its size: bytes, or with K, M, G, T")->required();

  convert_ = image_->add_subcommand(
      "convert", "Copy an image into another format (raw by default: what --disk reads)");
  convert_->add_option("-f,--format", source_format_, "The source's format (else qemu-img probes)");
  convert_->add_option("-O,--output-format", out_format_, "The new image's format")
      ->default_val("raw");
  convert_->add_flag("--force", force_, "Replace an existing destination");
  convert_->add_option("SOURCE", source_, "The image to read")->required();
  convert_->add_option("DEST", dest_, "The image to write")->required();

  info_ = image_->add_subcommand("info", "Show an image's format, sizes and backing file");
  info_->add_flag("--json", json_, "qemu-img's JSON, for scripts");
  info_->add_option("PATH", path_, "The image")->required();
}

std::optional<int> ImageCommands::run() {
  if (!image_->parsed()) return std::nullopt;
  const char* what = create_->parsed() ? "create" : convert_->parsed() ? "convert" : "info";
  if (!in_path(kQemuImg)) {
    return bad_input(what, "qemu-img not found in PATH (install qemu-utils)");
  }
  if (create_->parsed()) return create();
  if (convert_->parsed()) return convert();
  return info();
}

int ImageCommands::create() {
  if (auto ok = check_format(format_); !ok) return bad_input("create", ok.error().message);
  auto bytes = parse_size(size_);
  if (!bytes) return bad_input("create", bytes.error().message);
  if (*bytes == 0) return bad_input("create", fmt::format("size '{}' is zero", size_));
  if (auto ok = check_dest(path_, force_); !ok) return bad_input("create", ok.error().message);
  // qemu-img create takes the size after the file name, in bytes (parsed here once).
  auto made = write_through_temp({"create", "-q", "-f", format_}, path_, {std::to_string(*bytes)});
  if (!made) {
    fmt::print(stderr, "vessel: image create: {}\n", made.error().message);
    return kExitToolFailed;
  }
  fmt::print("{}: {} image of {} bytes\n", path_, format_, *bytes);
  return kExitOk;
}

int ImageCommands::convert() {
  if (!source_format_.empty()) {
    if (auto ok = check_format(source_format_); !ok)
      return bad_input("convert", ok.error().message);
  }
  if (auto ok = check_format(out_format_); !ok) return bad_input("convert", ok.error().message);
  if (auto ok = check_source(source_); !ok) return bad_input("convert", ok.error().message);
  if (auto ok = check_dest(dest_, force_); !ok) return bad_input("convert", ok.error().message);
  std::vector<std::string> args{"convert"};
  if (!source_format_.empty()) args.insert(args.end(), {"-f", source_format_});
  args.insert(args.end(), {"-O", out_format_, source_});
  if (auto made = write_through_temp(args, dest_); !made) {
    fmt::print(stderr, "vessel: image convert: {}\n", made.error().message);
    return kExitToolFailed;
  }
  fmt::print("{}: {} image from {}\n", dest_, out_format_, source_);
  return kExitOk;
}

int ImageCommands::info() {
  if (auto ok = check_source(path_); !ok) return bad_input("info", ok.error().message);
  std::vector<std::string> args{"info"};
  if (json_) args.emplace_back("--output=json");
  args.push_back(path_);
  std::fflush(stdout);
  if (auto shown = run_qemu_img(args, true); !shown) {
    fmt::print(stderr, "vessel: image info: {}\n", shown.error().message);
    return kExitToolFailed;
  }
  return kExitOk;
}

}  // namespace vessel::cli
