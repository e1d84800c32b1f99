// libFuzzer target for the live migration stream's parser (vmm/migration): the input is what
// a destination reads from its source, a preamble and then frames (HELLO, PAGES, ZERO_PAGES,
// STATE, ...), each header checked, each payload's CRC checked, then applied by the Receiver
// in order. Guest RAM is bounded to 64 MiB here (a HELLO asking more is refused). Every
// input ends in an error or a parsed snapshot; nothing else may happen.
#include <cstdint>
#include <span>

#include "vmm/migration/receiver.hpp"
#include "vmm/migration/stream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vessel::migration;
  std::span<const uint8_t> in(data, size);
  if (!check_preamble(in).ok()) return 0;
  in = in.subspan(kPreambleBytes);
  ReceiveOptions options;
  options.max_ram = 64ULL << 20;
  Receiver receiver(options);
  while (in.size() >= kFrameHeaderBytes) {
    auto header = decode_frame_header(in.first(kFrameHeaderBytes));
    if (!header.ok()) return 0;
    in = in.subspan(kFrameHeaderBytes);
    if (header->length > in.size()) return 0;
    const auto payload = in.first(header->length);
    in = in.subspan(header->length);
    if (!check_payload(*header, payload).ok()) return 0;
    auto next = receiver.on_frame(header->type, payload);
    if (!next.ok() || *next == Receiver::Next::kStateDone) return 0;
  }
  return 0;
}
