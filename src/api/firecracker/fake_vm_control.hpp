// A VmControl for tests: it keeps the state machine and records what it was asked, and can be
// told to fail. Its statistics count "instructions" that advance on every read while running,
// so that a client can see a paused VM stand still.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/firecracker/vm_control.hpp"

namespace vessel::api {

class FakeVmControl : public VmControl {
 public:
  Result<void> start(const VirtConfig& config) override {
    calls.push_back("start");
    if (fail_start) return make_error(*fail_start);
    started_with = config;
    state_ = VmState::kRunning;
    return {};
  }
  Result<void> pause() override {
    calls.push_back("pause");
    if (state_ != VmState::kRunning) return make_error("fake: pause while not running");
    state_ = VmState::kPaused;
    return {};
  }
  Result<void> resume() override {
    calls.push_back("resume");
    if (state_ != VmState::kPaused) return make_error("fake: resume while not paused");
    state_ = VmState::kRunning;
    return {};
  }
  VmState state() const override { return state_; }
  nlohmann::json stats() override {
    if (state_ == VmState::kRunning) instructions_ += 1000;
    nlohmann::json j{{"instructions", instructions_}};
    if (started_with) j["engine"] = rv::engine_name(started_with->engine);
    return j;
  }
  Result<void> shutdown() override {
    calls.push_back("shutdown");
    return {};
  }
  Result<void> reboot() override {
    calls.push_back("reboot");
    return {};
  }

  Result<void> create_snapshot(const SnapshotFiles& files) override {
    calls.push_back("create_snapshot " + files.state + " " + files.memory +
                    (files.diff ? " diff" : ""));
    if (state_ != VmState::kPaused) return make_error("fake: snapshot while not paused");
    return {};
  }
  Result<void> load_snapshot(const SnapshotFiles& files, bool resume) override {
    calls.push_back("load_snapshot " + files.state + " " + files.memory);
    if (fail_start) return make_error(*fail_start);
    state_ = resume ? VmState::kRunning : VmState::kPaused;
    return {};
  }

  std::vector<std::string> calls;
  std::optional<VirtConfig> started_with;
  std::optional<std::string> fail_start;

 private:
  VmState state_ = VmState::kNotStarted;
  uint64_t instructions_ = 0;
};

}  // namespace vessel::api
