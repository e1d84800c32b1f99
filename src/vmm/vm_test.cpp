// VmHandle against a real run: pause stops every hart and the guest's clock, resume goes on
// from there, a poweroff request ends run_vm with status 0, and the statistics name the engine
// (with the translator's counters under jit), and a reboot keeps the vCPU threads' time.
#include "vmm/vm.hpp"

#include "base/test_temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
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
  void start(unsigned harts, rv::Engine engine = rv::default_engine(),
             uint64_t jit_cache_bytes = rv::kDefaultJitCacheBytes) {
    VmOptions options;
    options.machine.ram_size = 64ULL << 20;
    options.machine.num_harts = harts;
    options.machine.engine = engine;
    options.machine.jit_cache_bytes = jit_cache_bytes;
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

TEST_F(VmHandleTest, StatsNameTheEngineAndUnderJitCountTheTranslatorsWork) {
  constexpr uint64_t kArena = 4ULL << 20;
  start(2, rv::Engine::kJit, kArena);
  const auto s = stats(*handle);
  handle->request_poweroff();
  EXPECT_EQ(run.get(), kExitOk);
  if (!rv::jit_supported()) {  // the harts fall back to the interpreter
    EXPECT_EQ(s["engine"], "interp");
    EXPECT_FALSE(s.contains("jit"));
    return;
  }
  EXPECT_EQ(s["engine"], "jit");
  ASSERT_TRUE(s.contains("jit")) << s.dump();
  const auto& jit = s["jit"];
  for (const char* key :
       {"blocks_translated", "code_bytes", "guest_instructions", "translate_ms", "chained_exits",
        "unchained_exits", "cold_runs", "cache_flushes", "cache_bytes", "cache_used"}) {
    EXPECT_TRUE(jit.contains(key) && jit[key].is_number()) << key << " in " << jit.dump();
  }
  EXPECT_EQ(jit["cache_bytes"], kArena) << "each hart's arena, as --jit-cache gave it";
  EXPECT_LE(jit["cache_used"].get<uint64_t>(), 2 * kArena);
  std::set<std::string> kinds;
  for (const auto& [kind, count] : jit["helper_calls"].items()) {
    kinds.insert(kind);
    EXPECT_TRUE(count.is_number_unsigned()) << kind;
  }
  EXPECT_EQ(kinds, (std::set<std::string>(std::begin(rv::kHelperKindNames),
                                          std::end(rv::kHelperKindNames))));
}

TEST_F(VmHandleTest, InterpHasNoTranslatorCounters) {
  start(1, rv::Engine::kInterp);
  const auto s = stats(*handle);
  EXPECT_EQ(s["engine"], "interp");
  EXPECT_FALSE(s.contains("jit")) << s.dump();
  handle->request_poweroff();
  EXPECT_EQ(run.get(), kExitOk);
}

// A guest reboot builds a new machine on new vCPU threads: the statistics carry over what the
// ended threads used, for the daemon's counters, and the run's time goes on.
TEST_F(VmHandleTest, RebootKeepsTheVcpuSecondsOfTheEndedThreads) {
  start(2);
  std::this_thread::sleep_for(milliseconds(300));  // both harts spin (on a busy host, less)
  const double seconds_before = stats(*handle)["seconds"].get<double>();
  EXPECT_FALSE(stats(*handle).contains("vcpu_seconds_before_reboots"));
  handle->request_reboot();
  nlohmann::json s;
  ASSERT_TRUE(eventually([&] {
    s = stats(*handle);
    return s.contains("vcpu_seconds_before_reboots");
  }));
  const auto& before = s["vcpu_seconds_before_reboots"];
  ASSERT_EQ(before.size(), 2U) << s.dump();
  for (const auto& v : before) {
    EXPECT_GT(v.get<double>(), 0.0) << s.dump();
    EXPECT_LE(v.get<double>(), s["seconds"].get<double>() + 0.05) << s.dump();
  }
  EXPECT_GE(s["seconds"].get<double>(), seconds_before);
  handle->request_poweroff();
  EXPECT_EQ(run.get(), kExitOk);
}

TEST_F(VmHandleTest, SnapshotOfAPausedVmRestoresPausedAndResumes) {
  start(2);
  testing::TempDir dir;
  const snapshot::CreateOptions files{dir.file("vmstate"), dir.file("memory")};
  auto running = handle->snapshot(files);
  ASSERT_FALSE(running.ok());
  EXPECT_NE(running.error().message.find("must be paused"), std::string::npos);
  ASSERT_TRUE(handle->pause().ok());
  const uint64_t at_pause = stats(*handle)["instructions"].get<uint64_t>();
  ASSERT_TRUE(handle->snapshot(files).ok()) << handle->snapshot(files).error().message;
  handle->request_poweroff();
  EXPECT_EQ(run.get(), kExitOk);

  auto loaded = snapshot::load(files.state_path, files.memory_path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  auto restored = std::make_shared<VmHandle>();
  VmOptions options;
  options.restore = std::make_shared<const snapshot::Loaded>(std::move(*loaded));
  options.machine = snapshot::machine_config(*options.restore, options.machine);
  options.restore_paused = true;
  options.timeout_seconds = 120;
  options.handle = restored;
  auto again = std::async(std::launch::async, [options] { return run_vm(options); });
  ASSERT_TRUE(eventually([&] { return restored->state() == VmHandle::State::kPaused; }));
  EXPECT_EQ(stats(*restored)["harts"].get<unsigned>(), 2U);
  std::this_thread::sleep_for(milliseconds(50));
  // The harts' instret came back with them, and nothing has run since.
  EXPECT_EQ(stats(*restored)["instructions"].get<uint64_t>(), at_pause);
  ASSERT_TRUE(restored->resume().ok());
  ASSERT_TRUE(
      eventually([&] { return stats(*restored)["instructions"].get<uint64_t>() > at_pause; }));
  restored->request_poweroff();
  EXPECT_EQ(again.get(), kExitOk);
  EXPECT_GT(at_pause, 0U);
}

TEST_F(VmHandleTest, NothingBeforeTheStart) {
  EXPECT_EQ(handle->state(), VmHandle::State::kNotStarted);
  EXPECT_TRUE(handle->stats_json().empty());
  EXPECT_FALSE(handle->pause().ok());
  EXPECT_FALSE(handle->resume().ok());
}

}  // namespace
}  // namespace vessel
