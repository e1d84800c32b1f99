// virtio-blk request handling against hand-built chains in fake guest RAM, with an in-memory
// backend (and, at the end, real files through both I/O engines).
#include "devices/virtio/blk/blk.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>

#include "devices/virtio/device_test_support.hpp"
#include "host/block/io_engine.hpp"
#include "host/block/memory_backend.hpp"

namespace vessel::virtio {
namespace {

using block::MemoryBackend;
using testing::DriverQueue;
using testing::FakeTransport;
using testing::GuestRam;

constexpr uint64_t kAllFeatures = kFeatureVersion1 | VirtioBlk::kFeatureSegMax |
                                  VirtioBlk::kFeatureBlkSize | VirtioBlk::kFeatureFlush |
                                  VirtioBlk::kFeatureDiscard | VirtioBlk::kFeatureWriteZeroes;
constexpr uint64_t kSectors = 128;

class BlkTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loop_.start("blk-test").ok()); }
  void TearDown() override { blk_.reset(); }

  void make(bool read_only = false, bool async = false, uint64_t features = kAllFeatures,
            bool event_idx = false) {
    auto b = std::make_unique<MemoryBackend>(kSectors * 512, false, async);
    for (size_t i = 0; i < b->data().size(); ++i) b->data()[i] = static_cast<uint8_t>(i * 7 + 1);
    disk_ = b.get();
    blk_ = std::make_unique<VirtioBlk>(std::move(b), loop_, read_only);
    attach(features, event_idx);
  }
  void attach(uint64_t features = kAllFeatures, bool event_idx = false) {
    transport_.attach(0, q_, event_idx);
    ASSERT_TRUE(blk_->activate(transport_.context(), features).ok());
  }

  struct Buffer {
    uint64_t addr;
    uint32_t len;
    bool writable;
  };
  uint64_t alloc(uint32_t len, uint8_t fill = 0) { return testing::buffer(q_, len, fill); }
  template <typename T>
  void store(uint64_t addr, T v) {
    ram_.set<T>(addr, v);
  }
  template <typename T>
  T load(uint64_t addr) {
    return ram_.get<T>(addr);
  }
  void put(uint64_t addr, const std::string& s) { ram_.fill(addr, s.data(), s.size()); }
  std::string get(uint64_t addr, size_t len) {
    return std::string(reinterpret_cast<const char*>(ram_.host(addr)), len);
  }
  // Publishes a chain of the buffers (readable ones first).
  uint16_t add_bufs(const std::vector<Buffer>& bufs, DriverQueue* q = nullptr) {
    std::vector<std::pair<uint64_t, uint32_t>> readable, writable;
    for (const Buffer& b : bufs) (b.writable ? writable : readable).emplace_back(b.addr, b.len);
    return testing::add_chain(q != nullptr ? *q : q_, readable, writable);
  }
  std::vector<std::pair<uint32_t, uint32_t>> take_used() {
    return testing::take_used(q_, used_from_);
  }
  uint16_t avail_idx() { return ram_.get<uint16_t>(q_.avail_addr() + 2); }

  // A request as Linux lays it out: header, data buffers, status byte, each its own buffer.
  struct Req {
    uint16_t head = 0;
    uint64_t header = 0, status = 0;
    std::vector<uint64_t> data;
  };
  Req add(uint32_t type, uint64_t sector, std::vector<uint32_t> data_lens, bool device_writes,
          bool with_status = true) {
    Req r;
    r.header = alloc(16);
    store<uint32_t>(r.header, type);
    store<uint32_t>(r.header + 4, 0);
    store<uint64_t>(r.header + 8, sector);
    std::vector<Buffer> bufs{{r.header, 16, false}};
    for (uint32_t len : data_lens) {
      r.data.push_back(alloc(len, 0x5a));
      bufs.push_back({r.data.back(), len, device_writes});
    }
    if (with_status) {
      r.status = alloc(1, 0xff);
      bufs.push_back({r.status, 1, true});
    }
    r.head = add_bufs(bufs);
    return r;
  }
  // Kicks the device and waits until `count` chains in total have been used.
  void run(uint16_t count) {
    blk_->notify(0);
    ASSERT_TRUE(testing::settle(loop_, [&] { return q_.used_idx() >= count; }))
        << "used " << q_.used_idx() << " of " << count;
  }
  uint8_t status(const Req& r) { return load<uint8_t>(r.status); }
  std::string disk_bytes(uint64_t offset, size_t len) {
    return std::string(reinterpret_cast<const char*>(disk_->data().data() + offset), len);
  }
  uint32_t config32(uint64_t offset) {
    uint8_t b[4];
    blk_->read_config(offset, b, 4);
    return load_le<uint32_t>(b);
  }
  void put_segment(uint64_t addr, uint64_t sector, uint32_t sectors, uint32_t flags) {
    store<uint64_t>(addr, sector);
    store<uint32_t>(addr + 8, sectors);
    store<uint32_t>(addr + 12, flags);
  }

  EventLoop loop_;
  GuestRam ram_{1 << 20};
  DriverQueue q_{ram_, 128};
  FakeTransport transport_{ram_, 1};
  uint16_t used_from_ = 0;
  MemoryBackend* disk_ = nullptr;
  std::unique_ptr<VirtioBlk> blk_;
};

TEST_F(BlkTest, FeaturesAndConfigSpace) {
  make();
  EXPECT_EQ(blk_->device_id(), DeviceId::kBlock);
  EXPECT_EQ(blk_->num_queues(), 1U);
  const uint64_t f = blk_->device_features();
  EXPECT_EQ(f, VirtioBlk::kFeatureSegMax | VirtioBlk::kFeatureBlkSize | VirtioBlk::kFeatureFlush |
                   VirtioBlk::kFeatureDiscard | VirtioBlk::kFeatureWriteZeroes);
  uint8_t cap[8];
  blk_->read_config(VirtioBlk::kCfgCapacity, cap, 8);
  EXPECT_EQ(load_le<uint64_t>(cap), kSectors);
  EXPECT_EQ(config32(VirtioBlk::kCfgCapacity), kSectors);
  EXPECT_EQ(config32(VirtioBlk::kCfgCapacity + 4), 0U);
  EXPECT_EQ(config32(VirtioBlk::kCfgSegMax), VirtioBlk::kQueueSize - 2U);
  EXPECT_EQ(config32(VirtioBlk::kCfgBlkSize), 512U);
  EXPECT_EQ(config32(VirtioBlk::kCfgMaxDiscardSectors), VirtioBlk::kMaxDiscardSectors);
  EXPECT_EQ(config32(VirtioBlk::kCfgMaxDiscardSeg), VirtioBlk::kMaxDiscardSeg);
  EXPECT_EQ(config32(VirtioBlk::kCfgDiscardSectorAlignment), 8U);  // 4 KiB
  EXPECT_EQ(config32(VirtioBlk::kCfgMaxWriteZeroesSectors), VirtioBlk::kMaxDiscardSectors);
  EXPECT_EQ(config32(VirtioBlk::kCfgMaxWriteZeroesSeg), VirtioBlk::kMaxDiscardSeg);
  EXPECT_EQ(config32(VirtioBlk::kCfgWriteZeroesMayUnmap), 1U);
  EXPECT_EQ(config32(VirtioBlk::kConfigSize), 0U);  // past the end reads as zero
  uint8_t b[4] = {1, 1, 1, 1};
  blk_->read_config(~0ULL - 1, b, 4);
  EXPECT_EQ(load_le<uint32_t>(b), 0U);
}

TEST_F(BlkTest, ReadOnlyFeatures) {
  make(/*read_only=*/true);
  const uint64_t f = blk_->device_features();
  EXPECT_NE(f & VirtioBlk::kFeatureRo, 0U);
  EXPECT_EQ(f & (VirtioBlk::kFeatureDiscard | VirtioBlk::kFeatureWriteZeroes), 0U);
}

TEST_F(BlkTest, ReadScatteredAcrossBuffers) {
  make();
  const Req r = add(VirtioBlk::kTIn, 3, {512, 1024, 512}, true);
  run(1);
  EXPECT_EQ(status(r), VirtioBlk::kSOk);
  EXPECT_EQ(get(r.data[0], 512), disk_bytes(3 * 512, 512));
  EXPECT_EQ(get(r.data[1], 1024), disk_bytes(4 * 512, 1024));
  EXPECT_EQ(get(r.data[2], 512), disk_bytes(6 * 512, 512));
  const auto used = take_used();
  ASSERT_EQ(used.size(), 1U);
  EXPECT_EQ(used[0].first, r.head);
  EXPECT_EQ(used[0].second, 2049U);  // data and status
  EXPECT_GE(transport_.signals(0), 1U);
  const BlkStats s = blk_->stats();
  EXPECT_EQ(s.reads, 1U);
  EXPECT_EQ(s.read_bytes, 2048U);
  EXPECT_EQ(s.errors, 0U);
}

TEST_F(BlkTest, StatusSharesTheLastDataBuffer) {
  make();
  // Header+nothing readable, then one writable buffer holding data and the status byte.
  const uint64_t hdr = alloc(16);
  store<uint32_t>(hdr, VirtioBlk::kTIn);
  store<uint64_t>(hdr + 8, 1);
  const uint64_t buf = alloc(513, 0x77);
  add_bufs({{hdr, 16, false}, {buf, 513, true}});
  run(1);
  EXPECT_EQ(load<uint8_t>(buf + 512), VirtioBlk::kSOk);
  EXPECT_EQ(get(buf, 512), disk_bytes(512, 512));
}

TEST_F(BlkTest, WriteWithHeaderAndDataInOneBuffer) {
  make();
  const uint64_t out = alloc(16 + 1024);
  store<uint32_t>(out, VirtioBlk::kTOut);
  store<uint64_t>(out + 8, 10);
  std::string data(1024, 'w');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  put(out + 16, data);
  const uint64_t st = alloc(1, 0xff);
  add_bufs({{out, 16 + 1024, false}, {st, 1, true}});
  run(1);
  EXPECT_EQ(load<uint8_t>(st), VirtioBlk::kSOk);
  EXPECT_EQ(disk_bytes(10 * 512, 1024), data);
  EXPECT_EQ(take_used().at(0).second, 1U);
  EXPECT_EQ(disk_->counts().flushes, 0U);  // FLUSH negotiated: writeback, no implicit flush
  EXPECT_EQ(blk_->stats().writes, 1U);
  EXPECT_EQ(blk_->stats().write_bytes, 1024U);
}

TEST_F(BlkTest, FlushAndWritethroughWithoutFlushFeature) {
  make(false, false, kAllFeatures & ~VirtioBlk::kFeatureFlush);
  const Req w = add(VirtioBlk::kTOut, 0, {512}, false);
  run(1);
  EXPECT_EQ(status(w), VirtioBlk::kSOk);
  EXPECT_EQ(disk_->counts().flushes, 1U);  // writethrough: made durable before completion
  const Req f = add(VirtioBlk::kTFlush, 0, {}, false);
  run(2);
  EXPECT_EQ(status(f), VirtioBlk::kSOk);
  EXPECT_EQ(disk_->counts().flushes, 2U);
  EXPECT_EQ(blk_->stats().flushes, 1U);
}

TEST_F(BlkTest, GetId) {
  make();
  blk_->set_serial("vessel-7");
  const Req full = add(VirtioBlk::kTGetId, 0, {20}, true);
  const Req small = add(VirtioBlk::kTGetId, 0, {4}, true);
  const Req none = add(VirtioBlk::kTGetId, 0, {}, true);
  run(3);
  EXPECT_EQ(status(full), VirtioBlk::kSOk);
  EXPECT_EQ(get(full.data[0], 20), std::string("vessel-7") + std::string(12, '\0'));
  EXPECT_EQ(status(small), VirtioBlk::kSOk);
  EXPECT_EQ(get(small.data[0], 4), "vess");
  EXPECT_EQ(status(none), VirtioBlk::kSIoErr);
  const auto used = take_used();
  EXPECT_EQ(used[0].second, 21U);
  EXPECT_EQ(used[1].second, 5U);
}

TEST_F(BlkTest, DefaultSerialCountsDevices) {
  make();
  EXPECT_EQ(blk_->serial().rfind("vessel-", 0), 0U);
  auto other = std::make_unique<VirtioBlk>(std::make_unique<MemoryBackend>(4096), loop_, false);
  EXPECT_NE(other->serial(), blk_->serial());
}

TEST_F(BlkTest, OutOfRangeAndBadLengthsAreIoErrors) {
  make();
  const Req past = add(VirtioBlk::kTIn, kSectors, {512}, true);
  const Req straddle = add(VirtioBlk::kTIn, kSectors - 1, {1024}, true);
  const Req huge = add(VirtioBlk::kTOut, ~0ULL / 512 + 1, {512}, false);
  const Req wrap = add(VirtioBlk::kTIn, ~0ULL, {512}, true);
  const Req odd = add(VirtioBlk::kTIn, 0, {100}, true);
  const Req odd_write = add(VirtioBlk::kTOut, 0, {513}, false);
  const Req empty_at_end = add(VirtioBlk::kTIn, kSectors, {}, true);
  const Req last = add(VirtioBlk::kTIn, kSectors - 1, {512}, true);
  run(8);
  for (const Req* r : {&past, &straddle, &huge, &wrap, &odd, &odd_write}) {
    EXPECT_EQ(status(*r), VirtioBlk::kSIoErr) << "head " << r->head;
  }
  EXPECT_EQ(status(empty_at_end), VirtioBlk::kSOk);
  EXPECT_EQ(status(last), VirtioBlk::kSOk);
  EXPECT_EQ(disk_->counts().reads, 1U);  // only the valid one reached the backend
  EXPECT_EQ(disk_->counts().writes, 0U);
  EXPECT_EQ(blk_->stats().errors, 6U);
}

TEST_F(BlkTest, ShortHeaderAndUnknownTypes) {
  make();
  const uint64_t hdr = alloc(8);
  store<uint32_t>(hdr, VirtioBlk::kTIn);
  const uint64_t st = alloc(1, 0xff);
  add_bufs({{hdr, 8, false}, {st, 1, true}});
  const Req lifetime = add(VirtioBlk::kTGetLifetime, 0, {8}, true);
  const Req erase = add(VirtioBlk::kTSecureErase, 0, {16}, false);
  const Req scsi = add(2, 0, {}, false);
  const Req junk = add(0xdeadbeef, 0, {}, false);
  run(5);
  EXPECT_EQ(load<uint8_t>(st), VirtioBlk::kSIoErr);
  for (const Req* r : {&lifetime, &erase, &scsi, &junk}) {
    EXPECT_EQ(status(*r), VirtioBlk::kSUnsupp);
  }
}

TEST_F(BlkTest, NoRoomForStatusNeedsReset) {
  make();
  add(VirtioBlk::kTOut, 0, {512}, false, /*with_status=*/false);
  blk_->notify(0);
  ASSERT_TRUE(testing::settle(loop_, [&] { return !transport_.resets().empty(); }));
  EXPECT_NE(transport_.resets()[0].find("status"), std::string::npos);
  EXPECT_EQ(q_.used_idx(), 0U);
  EXPECT_EQ(disk_->counts().writes, 0U);
  // Nothing more is served until the driver resets the device.
  const Req later = add(VirtioBlk::kTIn, 0, {512}, true);
  blk_->notify(0);
  loop_.drain();
  EXPECT_EQ(q_.used_idx(), 0U);
  blk_->reset();
  // The driver sets the device up again with a fresh queue.
  FakeTransport transport2(ram_, 1);
  DriverQueue fresh(ram_, 16, GuestRam::kBase + 0x80000);
  transport2.attach(0, fresh);
  ASSERT_TRUE(blk_->activate(transport2.context(), kAllFeatures).ok());
  const uint64_t hdr = alloc(16);
  const uint64_t st = alloc(1, 0xff);
  add_bufs({{hdr, 16, false}, {st, 1, true}}, &fresh);  // type 0 (IN) sector 0, no data
  blk_->notify(0);
  ASSERT_TRUE(testing::settle(loop_, [&] { return fresh.used_idx() == 1; }));
  EXPECT_EQ(load<uint8_t>(st), VirtioBlk::kSOk);
  (void)later;
}

TEST_F(BlkTest, MalformedChainNeedsReset) {
  make();
  q_.set_desc(0, alloc(16), 16, kDescNext, 500);  // next index past the table
  q_.publish(0);
  blk_->notify(0);
  ASSERT_TRUE(testing::settle(loop_, [&] { return !transport_.resets().empty(); }));
  EXPECT_EQ(q_.used_idx(), 0U);
}

TEST_F(BlkTest, ReadOnlyRefusesWritesWithoutTouchingTheDisk) {
  make(/*read_only=*/true, false, kAllFeatures | VirtioBlk::kFeatureRo);
  const std::string before = disk_bytes(0, kSectors * 512);
  const Req w = add(VirtioBlk::kTOut, 0, {512}, false);
  const Req d = add(VirtioBlk::kTDiscard, 0, {16}, false);
  put_segment(d.data[0], 0, 8, 0);
  const Req z = add(VirtioBlk::kTWriteZeroes, 0, {16}, false);
  put_segment(z.data[0], 0, 8, 0);
  const Req r = add(VirtioBlk::kTIn, 0, {512}, true);
  const Req f = add(VirtioBlk::kTFlush, 0, {}, false);
  run(5);
  EXPECT_EQ(status(w), VirtioBlk::kSIoErr);
  EXPECT_EQ(status(d), VirtioBlk::kSIoErr);
  EXPECT_EQ(status(z), VirtioBlk::kSIoErr);
  EXPECT_EQ(status(r), VirtioBlk::kSOk);
  EXPECT_EQ(status(f), VirtioBlk::kSOk);
  EXPECT_EQ(disk_bytes(0, kSectors * 512), before);
  EXPECT_EQ(disk_->counts().writes + disk_->counts().discards + disk_->counts().write_zeroes, 0U);
}

TEST_F(BlkTest, DiscardAndWriteZeroes) {
  make();
  const Req d = add(VirtioBlk::kTDiscard, 0, {32}, false);
  put_segment(d.data[0], 8, 8, 0);
  put_segment(d.data[0] + 16, 32, 4, 0);
  const Req z = add(VirtioBlk::kTWriteZeroes, 0, {32}, false);
  put_segment(z.data[0], 64, 2, 0);
  put_segment(z.data[0] + 16, 70, 1, VirtioBlk::kFlagUnmap);
  run(2);
  EXPECT_EQ(status(d), VirtioBlk::kSOk);
  EXPECT_EQ(status(z), VirtioBlk::kSOk);
  EXPECT_EQ(disk_->counts().discards, 2U);
  EXPECT_EQ(disk_->counts().write_zeroes, 2U);
  EXPECT_EQ(disk_bytes(8 * 512, 4096), std::string(4096, '\xdd'));
  EXPECT_EQ(disk_bytes(64 * 512, 1024), std::string(1024, '\0'));
  EXPECT_EQ(disk_bytes(70 * 512, 512), std::string(512, '\0'));
  EXPECT_NE(disk_bytes(66 * 512, 512), std::string(512, '\0'));
  EXPECT_EQ(blk_->stats().discards, 1U);
  EXPECT_EQ(blk_->stats().write_zeroes, 1U);
}

TEST_F(BlkTest, BadDiscardSegments) {
  make();
  const Req unmap = add(VirtioBlk::kTDiscard, 0, {16}, false);
  put_segment(unmap.data[0], 0, 8, VirtioBlk::kFlagUnmap);  // unmap is for write-zeroes only
  const Req reserved = add(VirtioBlk::kTWriteZeroes, 0, {16}, false);
  put_segment(reserved.data[0], 0, 8, 2);
  const Req partial = add(VirtioBlk::kTDiscard, 0, {20}, false);
  put_segment(partial.data[0], 0, 8, 0);
  const Req none = add(VirtioBlk::kTDiscard, 0, {}, false);
  const Req range = add(VirtioBlk::kTWriteZeroes, 0, {16}, false);
  put_segment(range.data[0], kSectors - 4, 8, 0);
  const Req wrap = add(VirtioBlk::kTDiscard, 0, {16}, false);
  put_segment(wrap.data[0], ~0ULL - 2, 8, 0);
  const Req too_long = add(VirtioBlk::kTDiscard, 0, {16}, false);
  put_segment(too_long.data[0], 0, VirtioBlk::kMaxDiscardSectors + 1, 0);
  const Req too_many = add(VirtioBlk::kTDiscard, 0, {16 * (VirtioBlk::kMaxDiscardSeg + 1)}, false);
  for (uint32_t i = 0; i <= VirtioBlk::kMaxDiscardSeg; ++i) {
    put_segment(too_many.data[0] + 16 * i, i, 1, 0);
  }
  run(8);
  EXPECT_EQ(status(unmap), VirtioBlk::kSUnsupp);
  EXPECT_EQ(status(reserved), VirtioBlk::kSUnsupp);
  for (const Req* r : {&partial, &none, &range, &wrap, &too_long, &too_many}) {
    EXPECT_EQ(status(*r), VirtioBlk::kSIoErr) << "head " << r->head;
  }
  EXPECT_EQ(disk_->counts().discards + disk_->counts().write_zeroes, 0U);
}

TEST_F(BlkTest, DiscardWithoutTheFeatureIsUnsupported) {
  make(false, false, kAllFeatures & ~(VirtioBlk::kFeatureDiscard | VirtioBlk::kFeatureWriteZeroes));
  const Req d = add(VirtioBlk::kTDiscard, 0, {16}, false);
  put_segment(d.data[0], 0, 8, 0);
  const Req z = add(VirtioBlk::kTWriteZeroes, 0, {16}, false);
  put_segment(z.data[0], 0, 8, 0);
  run(2);
  EXPECT_EQ(status(d), VirtioBlk::kSUnsupp);
  EXPECT_EQ(status(z), VirtioBlk::kSUnsupp);
}

TEST_F(BlkTest, HostErrorsBecomeIoErr) {
  make();
  disk_->fail_next(-EIO);
  const Req r = add(VirtioBlk::kTIn, 0, {512}, true);
  run(1);
  EXPECT_EQ(status(r), VirtioBlk::kSIoErr);
  disk_->fail_next(-ENOSPC);
  const Req w = add(VirtioBlk::kTOut, 0, {512}, false);
  run(2);
  EXPECT_EQ(status(w), VirtioBlk::kSIoErr);
  disk_->fail_next(-EIO);
  const Req f = add(VirtioBlk::kTFlush, 0, {}, false);
  run(3);
  EXPECT_EQ(status(f), VirtioBlk::kSIoErr);
  const Req ok = add(VirtioBlk::kTIn, 0, {512}, true);
  run(4);
  EXPECT_EQ(status(ok), VirtioBlk::kSOk);
  EXPECT_EQ(blk_->stats().errors, 3U);
  EXPECT_EQ(blk_->stats().reads, 1U);
}

TEST_F(BlkTest, ManyAsyncRequestsWithEventIdx) {
  make(false, /*async=*/true, kAllFeatures | kFeatureEventIdx, /*event_idx=*/true);
  std::vector<Req> reqs;
  for (int i = 0; i < 40; ++i) {
    reqs.push_back(add(i % 2 == 0 ? VirtioBlk::kTIn : VirtioBlk::kTOut, static_cast<uint64_t>(i),
                       {512}, i % 2 == 0));
  }
  run(40);
  for (const Req& r : reqs) EXPECT_EQ(status(r), VirtioBlk::kSOk);
  // The device published where it will look next: the driver notifies for the next one.
  EXPECT_EQ(q_.avail_event(), avail_idx());
  EXPECT_EQ(blk_->stats().reads + blk_->stats().writes, 40U);
}

TEST_F(BlkTest, ResetDropsRequestsInFlight) {
  make();
  disk_->hold_completions(true);  // the disk answers only when drained
  add(VirtioBlk::kTIn, 0, {512}, true);
  add(VirtioBlk::kTOut, 1, {512}, false);
  blk_->notify(0);
  auto in_flight = [&] {
    std::promise<size_t> n;
    loop_.post([&] { n.set_value(disk_->in_flight()); });
    return n.get_future().get();
  };
  ASSERT_TRUE(testing::settle(loop_, [&] { return in_flight() == 2; }));
  blk_->reset();  // from this (vCPU-like) thread: returns with nothing left in flight
  EXPECT_EQ(in_flight(), 0U);
  EXPECT_EQ(disk_->counts().reads + disk_->counts().writes, 2U);
  loop_.drain();
  EXPECT_EQ(q_.used_idx(), 0U);  // completed into the void, not into the reset queue
}

TEST_F(BlkTest, SaveAndRestore) {
  make();
  StateWriter w;
  blk_->save(w);
  StateReader r(w.bytes());
  EXPECT_TRUE(blk_->restore(r).ok());
  EXPECT_TRUE(r.at_end());

  VirtioBlk other(std::make_unique<MemoryBackend>(kSectors * 512 + 512), loop_, false);
  StateReader r2(w.bytes());
  auto bad = other.restore(r2);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("sectors"), std::string::npos);
  VirtioBlk ro(std::make_unique<MemoryBackend>(kSectors * 512), loop_, true);
  StateReader r3(w.bytes());
  EXPECT_FALSE(ro.restore(r3).ok());
  std::vector<uint8_t> cut(w.bytes().begin(), w.bytes().end() - 3);
  StateReader r4(cut);
  EXPECT_FALSE(blk_->restore(r4).ok());
}

// Through open_disk: a real file, each I/O engine, guest buffers handed to the host directly.
class BlkFileTest : public BlkTest, public ::testing::WithParamInterface<block::IoMode> {};

TEST_P(BlkFileTest, ReadsAndWritesReachTheFile) {
  if (GetParam() == block::IoMode::kUring && !block::make_uring_engine(8).ok()) {
    GTEST_SKIP() << "io_uring unavailable";
  }
  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / "vessel-blk-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string img = dir + "/disk.img";
  {
    std::ofstream f(img, std::ios::binary);
    std::string content(256 * 1024, '\0');
    for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i / 512);
    f << content;
  }
  block::OpenOptions opts;
  opts.io = GetParam();
  auto disk = block::open_disk(block::DiskSpec{img, false, dir + "/disk.ovl"}, opts);
  ASSERT_TRUE(disk.ok()) << disk.error().message;
  blk_ = std::make_unique<VirtioBlk>(std::move(disk).value(), loop_, false);
  EXPECT_EQ(blk_->capacity_sectors(), 512U);
  attach();
  const Req w = add(VirtioBlk::kTOut, 130, {512, 512}, false);
  put(w.data[0], std::string(512, 'x'));
  put(w.data[1], std::string(512, 'y'));
  run(1);
  ASSERT_EQ(status(w), VirtioBlk::kSOk);
  const Req f = add(VirtioBlk::kTFlush, 0, {}, false);
  const Req r = add(VirtioBlk::kTIn, 129, {1536}, true);
  const Req z = add(VirtioBlk::kTWriteZeroes, 0, {16}, false);
  put_segment(z.data[0], 300, 200, VirtioBlk::kFlagUnmap);
  run(4);
  EXPECT_EQ(status(f), VirtioBlk::kSOk);
  EXPECT_EQ(status(r), VirtioBlk::kSOk);
  EXPECT_EQ(status(z), VirtioBlk::kSOk);
  EXPECT_EQ(get(r.data[0], 1536),
            std::string(512, '\x81') + std::string(512, 'x') + std::string(512, 'y'));
  const Req r2 = add(VirtioBlk::kTIn, 299, {1024}, true);
  run(5);
  EXPECT_EQ(get(r2.data[0], 1024), std::string(512, '\x2b') + std::string(512, '\0'));
  blk_.reset();
  // The base image was left alone; the writes live in the overlay.
  std::ifstream in(img, std::ios::binary);
  std::string back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(back.substr(130 * 512, 512), std::string(512, '\x82'));
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Engines, BlkFileTest,
                         ::testing::Values(block::IoMode::kUring, block::IoMode::kThreads),
                         [](const auto& param_info) {
                           return std::string(
                               param_info.param == block::IoMode::kUring ? "io_uring" : "threads");
                         });

}  // namespace
}  // namespace vessel::virtio
