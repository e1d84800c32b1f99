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
  Result<nlohmann::json> migrate(const MigrateRequest& request) override {
    calls.push_back("migrate " + request.destination);
    if (fail_start) return make_error(*fail_start);
    return nlohmann::json{{"rounds", 1}};
  }
  // The balloon the VM was started with, as a driver that gives at once what is asked.
  Result<void> set_balloon_target(uint32_t amount_mib) override {
    calls.push_back("balloon " + std::to_string(amount_mib));
    if (!balloon()) return make_error("fake: no balloon");
    balloon_target_ = amount_mib;
    return {};
  }
  Result<void> set_balloon_stats_interval(unsigned seconds) override {
    calls.push_back("balloon stats " + std::to_string(seconds));
    if (!balloon() || balloon()->stats_interval_s == 0) return make_error("fake: no statistics");
    stats_interval_ = seconds;
    return {};
  }
  Result<nlohmann::json> balloon_statistics() override {
    if (!balloon()) return make_error("fake: no balloon");
    const uint32_t mib = balloon_target_.value_or(balloon()->amount_mib);
    return nlohmann::json{
        {"target_pages", mib * 256},
        {"actual_pages", mib * 256},
        {"target_mib", mib},
        {"actual_mib", mib},
        {"free_memory", 1234567},
        {"stats_polling_interval_s", stats_interval_.value_or(balloon()->stats_interval_s)}};
  }

  std::vector<std::string> calls;
  std::optional<VirtConfig> started_with;
  std::optional<std::string> fail_start;

 private:
  const std::optional<virtio::BalloonConfig>& balloon() const {
    static const std::optional<virtio::BalloonConfig> none;
    return started_with ? started_with->balloon : none;
  }
  std::optional<uint32_t> balloon_target_;
  std::optional<unsigned> stats_interval_;
  VmState state_ = VmState::kNotStarted;
  uint64_t instructions_ = 0;
};

}  // namespace vessel::api
