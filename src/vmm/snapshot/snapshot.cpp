#include "vmm/snapshot/snapshot.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/files.hpp"
#include "vmm/snapshot/snapshot_codec.hpp"
#include "vmm/snapshot/snapshot_file.hpp"

#ifndef VESSEL_VERSION
#error "VESSEL_VERSION comes from the build (project version)"
#endif

namespace vessel::snapshot {

namespace {

constexpr std::string_view kHeaderTag = "header/1";
constexpr std::string_view kMemoryTag = "memory/1";
constexpr uint8_t kMemoryFull = 0;
constexpr uint8_t kMemoryDiff = 1;
const std::vector<std::string_view> kSections = {"header", "disks", "memory", "machine", "net"};

Result<void> at_end(const StateReader& in, std::string_view section) {
  if (!in.at_end())
    return make_error(fmt::format("snapshot section '{}' has trailing bytes", section));
  return {};
}

std::vector<uint8_t> encode(const VirtConfig& config, const std::vector<DiskRef>& disks, bool diff,
                            std::vector<uint8_t> machine_state,
                            const std::vector<std::vector<uint8_t>>& net_state) {
  StateWriter header;
  header.begin(kHeaderTag);
  header.put_bytes(VESSEL_VERSION, std::strlen(VESSEL_VERSION));
  encode_config(header, config);
  StateWriter disk_refs;
  encode_disks(disk_refs, disks);
  StateWriter memory;
  memory.begin(kMemoryTag);
  memory.put<uint64_t>(config.ram_size);
  memory.put<uint8_t>(diff ? kMemoryDiff : kMemoryFull);
  StateWriter nets;
  encode_nets(nets, net_state);
  return encode_file({{"header", header.bytes()},
                      {"disks", disk_refs.bytes()},
                      {"memory", memory.bytes()},
                      {"machine", std::move(machine_state)},
                      {"net", nets.bytes()}});
}

}  // namespace

const char* vessel_version() { return VESSEL_VERSION; }

Result<Loaded> parse(const uint8_t* data, size_t size) {
  const std::vector<Section> sections = TRY(decode_file(data, size, kSections));
  Loaded out;
  StateReader header(sections[0].data);
  TRY_VOID(header.expect(kHeaderTag));
  const auto version = TRY(header.get_bytes(64));
  out.vessel_version.assign(version.begin(), version.end());
  if (out.vessel_version != VESSEL_VERSION) {
    return make_error(fmt::format("snapshot taken by Vessel {}, this is Vessel {}",
                                  out.vessel_version, VESSEL_VERSION));
  }
  out.config = TRY(decode_config(header));
  TRY_VOID(at_end(header, "header"));

  StateReader disks(sections[1].data);
  out.disks = TRY(decode_disks(disks));
  TRY_VOID(at_end(disks, "disks"));
  if (out.disks.size() != out.config.disks.size()) {
    return make_error("snapshot: the disks do not match the configuration");
  }
  for (size_t i = 0; i < out.disks.size(); ++i) {
    out.disks[i].spec = out.config.disks[i];
    if (out.disks[i].base != out.config.disks[i].path) {
      return make_error("snapshot: the disks do not match the configuration");
    }
  }

  StateReader memory(sections[2].data);
  TRY_VOID(memory.expect(kMemoryTag));
  out.memory_size = TRY(memory.get<uint64_t>());
  const auto kind = TRY(memory.get<uint8_t>());
  TRY_VOID(at_end(memory, "memory"));
  if (kind != kMemoryFull && kind != kMemoryDiff) {
    return make_error("snapshot: unknown kind of memory file");
  }
  out.diff = kind == kMemoryDiff;
  if (out.memory_size != out.config.ram_size) {
    return make_error("snapshot: the memory file's size is not the guest's RAM");
  }
  out.machine_state = sections[3].data;

  StateReader nets(sections[4].data);
  out.net_state = TRY(decode_nets(nets, out.config.nets));
  TRY_VOID(at_end(nets, "net"));
  return out;
}

Result<Loaded> load(const std::string& state_path, const std::string& memory_path) {
  auto bytes = read_small_file(state_path, kMaxStateFile);
  if (!bytes) return make_error(fmt::format("snapshot {}", bytes.error().message));
  auto loaded = parse(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  if (!loaded) return make_error(fmt::format("{}: {}", state_path, loaded.error().message));
  const int fd = open(memory_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(fmt::format("memory file {}: {}", memory_path, std::strerror(errno)));
  }
  loaded->memory_fd = std::shared_ptr<const int>(new int(fd), [](const int* p) {
    close(*p);
    delete p;
  });
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) != loaded->memory_size) {
    return make_error(fmt::format("memory file {}: not a file of {} bytes, as the snapshot's RAM",
                                  memory_path, loaded->memory_size));
  }
  for (const DiskRef& d : loaded->disks) TRY_VOID(check_disk(d));
  loaded->memory_file = memory_path;
  return loaded;
}

Result<Created> create(VirtMachine& machine, const VirtConfig& config,
                       const CreateOptions& options) {
  if (options.diff && !machine.has_dirty_base()) {
    return make_error(
        "a Diff snapshot needs a base: take a Full snapshot of this VM first (or restore one)");
  }
  // Written beside their final names and renamed only once both are whole.
  const std::string memory_tmp = options.memory_path + ".tmp";
  Result<std::vector<uint8_t>> bytes = std::vector<uint8_t>{};
  Result<uint64_t> memory = uint64_t{0};
  machine.quiesced([&] {
    bytes = capture_state(machine, config, options.diff);
    if (!bytes) return;
    memory = options.diff ? write_memory_diff(machine.ram(), machine.dirty_pages(), memory_tmp)
                          : write_memory(machine.ram(), memory_tmp);
    // While the I/O thread is parked: no DMA lands between the copy and the log's reset.
    if (memory) machine.reset_dirty_pages();
  });
  TRY_VOID(bytes);
  const uint64_t pages = TRY(std::move(memory));
  // From here a failure leaves no snapshot that the log's reset could be the base of.
  auto failed = [&](Error e) -> Result<Created> {
    machine.forget_dirty_base();
    return Result<Created>(std::move(e));
  };
  if (std::rename(memory_tmp.c_str(), options.memory_path.c_str()) != 0) {
    const int e = errno;
    std::remove(memory_tmp.c_str());
    return failed(Error{
        fmt::format("{}: cannot rename into place: {}", options.memory_path, std::strerror(e))});
  }
  if (auto w = write_file_atomically(
          options.state_path,
          std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), 0600);
      !w) {
    return failed(w.take_error());
  }
  return Created{pages, bytes->size()};
}

Result<std::vector<uint8_t>> capture_state(VirtMachine& machine, const VirtConfig& config,
                                           bool diff) {
  // After quiesced()'s flush: the disks' files are as the guest's completed writes left them.
  const std::vector<DiskRef> disks = TRY(describe_disks(config));
  StateWriter state;
  machine.save_state(state);
  VirtConfig saved = config;
  saved.disks.clear();
  for (const DiskRef& d : disks) saved.disks.push_back(d.spec);
  return encode(saved, disks, diff, state.bytes(), machine.save_net_state());
}

Result<std::vector<uint8_t>> rebind(const uint8_t* data, size_t size,
                                    const std::vector<block::DiskSpec>& disks,
                                    const std::vector<NetSpec>& nets) {
  const Loaded loaded = TRY(parse(data, size));
  if (disks.size() != loaded.disks.size() || nets.size() != loaded.config.nets.size()) {
    return make_error(fmt::format("snapshot has {} disks and {} networks, not {} and {}",
                                  loaded.disks.size(), loaded.config.nets.size(), disks.size(),
                                  nets.size()));
  }
  // The networks' own state goes along (a clone keeps its guest's DHCP lease): it must suit
  // the new settings (a user network still, with the metadata service if it had a connection
  // to it).
  TRY_VOID(check_nets(loaded.net_state, nets));
  VirtConfig config = loaded.config;
  config.disks = disks;
  config.nets = nets;
  const std::vector<DiskRef> refs = TRY(describe_disks(config));
  for (size_t i = 0; i < refs.size(); ++i) {
    // The guest saw a disk of this size; an overlay's disk is its base's size.
    if (refs[i].size != loaded.disks[i].size) {
      return make_error(fmt::format("disk {}: {} bytes, the snapshot's disk {} has {}",
                                    refs[i].base, refs[i].size, i, loaded.disks[i].size));
    }
    config.disks[i] = refs[i].spec;
  }
  return encode(config, refs, loaded.diff, loaded.machine_state, loaded.net_state);
}

VirtConfig machine_config(const Loaded& loaded, const VirtConfig& engine_from) {
  VirtConfig config = loaded.config;
  config.engine = engine_from.engine;
  config.jit_cache_bytes = engine_from.jit_cache_bytes;
  config.jit_threshold = engine_from.jit_threshold;
  return config;
}

Result<std::unique_ptr<VirtMachine>> restore(const Loaded& loaded, const VirtConfig& engine_from,
                                             VirtHost host) {
  const VirtConfig config = machine_config(loaded, engine_from);
  const VirtRestore from{loaded.memory_file, loaded.memory_fd ? *loaded.memory_fd : -1,
                         loaded.ram.get()};
  std::unique_ptr<VirtMachine> machine = TRY(VirtMachine::create(config, std::move(host), &from));
  if (auto ok = machine->restore_net_state(loaded.net_state); !ok) {
    return make_error(fmt::format("snapshot: {}", ok.error().message));
  }
  StateReader in(loaded.machine_state);
  if (auto ok = machine->restore_state(in); !ok) {
    return make_error(fmt::format("snapshot: {}", ok.error().message));
  }
  if (!loaded.ram) machine->reset_dirty_pages();  // the memory file is the next Diff's base
  return machine;
}

}  // namespace vessel::snapshot
