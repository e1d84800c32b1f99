// Runs the fuzz targets over the checked-in corpus without libFuzzer (any compiler), so the
// corpus stays a regression test: each file whole, every prefix of its first 1 KiB, and a
// fixed set of byte mutations.
//   fuzz_smoke htif=<dir> elf=<dir> virtqueue=<dir> sbi=<dir> ... jit=<dir> gdb=<dir>
//   snapshot=<dir> mmds=<dir> vsock=<dir> migration=<dir>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int vessel_fuzz_htif(const uint8_t* data, size_t size);
extern "C" int vessel_fuzz_elf(const uint8_t* data, size_t size);
extern "C" int vessel_fuzz_virtqueue(const uint8_t* data, size_t size);
extern "C" int vessel_fuzz_sbi(const uint8_t* data, size_t size);
extern "C" int vessel_fuzz_virtio_blk(const uint8_t* data, size_t size);
extern "C" int vessel_fuzz_virtio_net(const uint8_t* data, size_t size);
extern "C" int vessel_fuzz_firecracker_api(const uint8_t* data, size_t size);
extern "C" int vessel_fuzz_jit(const uint8_t* data, size_t size);
extern "C" int vessel_fuzz_gdb(const uint8_t* data, size_t size);
extern "C" int vessel_fuzz_snapshot(const uint8_t* data, size_t size);
extern "C" int vessel_fuzz_migration(const uint8_t* data, size_t size);
extern "C" int vessel_fuzz_mmds(const uint8_t* data, size_t size);
extern "C" int vessel_fuzz_vsock(const uint8_t* data, size_t size);

namespace {
using Target = int (*)(const uint8_t*, size_t);

void run(Target target, const std::vector<uint8_t>& input) {
  // A copy of exactly `size` bytes, so that ASan catches reads past the end.
  const std::vector<uint8_t> exact(input);
  target(exact.data(), exact.size());
}

size_t run_file(Target target, const std::vector<uint8_t>& bytes) {
  size_t runs = 0;
  run(target, bytes);
  ++runs;
  for (size_t len = 0; len < bytes.size() && len <= 1024; ++len, ++runs) {
    run(target, std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(len)));
  }
  uint64_t state = 0x9E3779B97F4A7C15ULL;  // fixed seed: the same mutations every run
  for (int i = 0; i < 256 && !bytes.empty(); ++i, ++runs) {
    std::vector<uint8_t> m = bytes;
    for (int k = 0; k < 4; ++k) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      const size_t at = static_cast<size_t>((state >> 33) % m.size());
      m[at] = static_cast<uint8_t>(state >> 24);
    }
    run(target, m);
  }
  return runs;
}
}  // namespace

int main(int argc, char** argv) {
  size_t files = 0, runs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    Target target = name == "htif"              ? vessel_fuzz_htif
                    : name == "elf"             ? vessel_fuzz_elf
                    : name == "virtqueue"       ? vessel_fuzz_virtqueue
                    : name == "sbi"             ? vessel_fuzz_sbi
                    : name == "virtio_blk"      ? vessel_fuzz_virtio_blk
                    : name == "virtio_net"      ? vessel_fuzz_virtio_net
                    : name == "firecracker_api" ? vessel_fuzz_firecracker_api
                    : name == "jit"             ? vessel_fuzz_jit
                    : name == "gdb"             ? vessel_fuzz_gdb
                    : name == "snapshot"        ? vessel_fuzz_snapshot
                    : name == "mmds"            ? vessel_fuzz_mmds
                    : name == "vsock"           ? vessel_fuzz_vsock
                    : name == "migration"       ? vessel_fuzz_migration
                                                : nullptr;
    if (target == nullptr || eq == std::string::npos) {
      std::fprintf(
          stderr,
          "usage: fuzz_smoke "
          "{htif,elf,virtqueue,sbi,virtio_blk,virtio_net,firecracker_api,jit,gdb,snapshot,mmds,"
          "vsock,migration}=<corpus "
          "dir> ...\n");
      return 2;
    }
    for (const auto& entry : std::filesystem::directory_iterator(arg.substr(eq + 1))) {
      if (!entry.is_regular_file()) continue;
      std::ifstream f(entry.path(), std::ios::binary);
      const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                                       std::istreambuf_iterator<char>());
      runs += run_file(target, bytes);
      ++files;
    }
  }
  if (files == 0) {
    std::fprintf(stderr, "fuzz_smoke: no corpus files found\n");
    return 1;
  }
  std::printf("fuzz_smoke: %zu files, %zu runs, no crash\n", files, runs);
  return 0;
}
