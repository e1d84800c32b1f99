// VmHandle against a real run: pause stops every hart and the guest's clock, resume goes on
// from there, and a poweroff request ends run_vm with status 0.
#include "vmm/vm.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

namespace vessel {
namespace {

using std::chrono::milliseconds;

nlohmann::json stats(const VmHandle& h) {
  const std::string s = h.stats_json();
  return s.empty() ? nlohmann::json{} : nlohmann::json::parse(s);
}

bool eventually(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

class VmHandleTest : public ::testing::Test {
 protected:
  void start(unsigned harts) {
    VmOptions options;
    options.machine.ram_size = 64ULL << 20;
    options.machine.num_harts = harts;
    options.machine.kernel = VESSEL_TEST_SPIN_ELF;  // every hart spins: j .
    options.machine.rng = false;
    options.timeout_seconds = 120;  // a safety net: the test ends it long before
    options.handle = handle;
    run = std::async(std::launch::async, [options] { return run_vm(options); });
    ASSERT_TRUE(eventually([&] {
      const auto s = stats(*handle);
      return !s.empty() && s["instructions"].get<uint64_t>() > 0;
    }));
  }

  std::shared_ptr<VmHandle> handle = std::make_shared<VmHandle>();
  std::future<int> run;
};

TEST_F(VmHandleTest, PauseStopsHartsAndClockResumeGoesOn) {
  start(2);
  EXPECT_EQ(handle->state(), VmHandle::State::kRunning);
  ASSERT_TRUE(handle->pause().ok());
  EXPECT_EQ(handle->state(), VmHandle::State::kPaused);
  EXPECT_TRUE(handle->pause().ok()) << "pausing a paused VM is not an error";
  const auto paused_at = std::chrono::steady_clock::now();
  const auto a = stats(*handle);
  std::this_thread::sleep_for(milliseconds(200));
  const auto b = stats(*handle);
  EXPECT_EQ(a["instructions"], b["instructions"]) << "no hart executes while paused";
  EXPECT_EQ(a["guest_seconds"], b["guest_seconds"]) << "guest time stands still";
  EXPECT_EQ(b["state"], "Paused");

  ASSERT_TRUE(handle->resume().ok());
  EXPECT_EQ(handle->state(), VmHandle::State::kRunning);
  ASSERT_TRUE(eventually([&] {
    return stats(*handle)["instructions"].get<uint64_t>() > b["instructions"].get<uint64_t>();
  })) << "the harts run again";
  const auto c = stats(*handle);
  const double guest = c["guest_seconds"].get<double>() - a["guest_seconds"].get<double>();
  EXPECT_LT(guest, since(paused_at) - 0.15) << "the paused 200 ms are not guest time";
  EXPECT_GT(c["guest_seconds"].get<double>(), b["guest_seconds"].get<double>());

  handle->request_poweroff();
  EXPECT_EQ(run.get(), kExitOk);
  EXPECT_EQ(handle->state(), VmHandle::State::kEnded);
  EXPECT_FALSE(handle->pause().ok()) << "an ended VM cannot pause";
  EXPECT_FALSE(handle->resume().ok());
}

TEST_F(VmHandleTest, PoweroffWhilePausedEndsTheRun) {
  start(1);
  ASSERT_TRUE(handle->pause().ok());
  handle->request_poweroff();
  EXPECT_EQ(run.get(), kExitOk);
}

TEST_F(VmHandleTest, NothingBeforeTheStart) {
  EXPECT_EQ(handle->state(), VmHandle::State::kNotStarted);
  EXPECT_TRUE(handle->stats_json().empty());
  EXPECT_FALSE(handle->pause().ok());
  EXPECT_FALSE(handle->resume().ok());
}

}  // namespace
}  // namespace vessel
