// Tests' private directory under /tmp (sockets, images a request names), removed at the end.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace vessel::http {

class ScratchDir {
 public:
  ScratchDir() {
    char templ[] = "/tmp/vessel-api-XXXXXX";
    if (mkdtemp(templ) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside, not created.
  std::string at(const std::string& name) const { return path_ + "/" + name; }
  // A new regular file with a little content.
  std::string file(const std::string& name) const {
    const std::string p = at(name);
    std::ofstream(p) << "not really " << name;
    return p;
  }

 private:
  std::string path_;
};

}  // namespace vessel::http
