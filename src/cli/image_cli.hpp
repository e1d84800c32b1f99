// `vessel image create|convert|info`: disk images in the formats people download, through
// QEMU's qemu-img where it is installed (Vessel itself reads raw images, and other formats
// through an NBD server; it has no image-format code of its own).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

namespace vessel::cli {

class ImageCommands {
 public:
  // Adds `image` and its subcommands to `app`.
  explicit ImageCommands(CLI::App& app);
  // After parsing: the exit status of the subcommand given, or nullopt when it was not `image`.
  std::optional<int> run();

 private:
  int create();
  int convert();
  int info();

  CLI::App* image_ = nullptr;
  CLI::App* create_ = nullptr;
  CLI::App* convert_ = nullptr;
  CLI::App* info_ = nullptr;
  std::string path_, size_, format_, source_, dest_, source_format_, out_format_;
  bool force_ = false, json_ = false;
};

}  // namespace vessel::cli
