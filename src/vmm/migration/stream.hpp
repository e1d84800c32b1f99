// The live migration stream (docs/migration.md): what a source Vessel sends a destination
// Vessel over one connection, and what comes back. A preamble (magic, the stream's format
// version, the snapshot format version), then frames, each with its type, its length and a
// CRC-32 of its payload:
//
//   source -> destination: HELLO (Vessel version, ticket, machine configuration), PAGES and
//                          ZERO_PAGES (guest RAM, round after round), STATE (the snapshot
//                          state file's bytes, at the stop-and-copy), nothing after.
//   destination -> source: READY (the HELLO is accepted), RUNNING (the guest runs there), or
//                          ERROR (a one-line reason) at any point.
//
// Everything here is pure (bytes in, bytes out): the parser is the fuzz target's entry.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "board/virt.hpp"

namespace vessel::migration {

inline constexpr char kMagic[8] = {'V', 'E', 'S', 'S', 'E', 'L', 'M', 'G'};
// Bumped whenever a frame's layout changes; a stream of another version is refused.
inline constexpr uint32_t kStreamVersion = 1;
inline constexpr size_t kPreambleBytes = 16;     // magic, stream version, snapshot version
inline constexpr size_t kFrameHeaderBytes = 16;  // type, CRC-32, payload length
inline constexpr uint64_t kPageSize = 4096;
// A PAGES frame carries at most this many pages (1 MiB): a bounded buffer on both sides.
inline constexpr uint64_t kMaxPagesPerFrame = 256;
inline constexpr size_t kPagesHeaderBytes = 16;  // first page, page count
// The largest payload: a STATE frame (a snapshot state file, which has the same bound).
size_t max_payload();

enum class FrameType : uint32_t {
  kHello = 1,
  kPages = 2,
  kZeroPages = 3,
  kState = 4,
  kReady = 16,
  kRunning = 17,
  kError = 18,
};
const char* frame_name(FrameType type);

std::array<uint8_t, kPreambleBytes> encode_preamble();
// An error naming what differs: not a migration stream, or another version of it.
Result<void> check_preamble(std::span<const uint8_t> bytes);

struct FrameHeader {
  FrameType type{};
  uint32_t crc = 0;
  uint64_t length = 0;
};
// The header for a payload made of `parts`, one after the other (its CRC covers them all).
std::array<uint8_t, kFrameHeaderBytes> encode_frame_header(
    FrameType type, std::initializer_list<std::span<const uint8_t>> parts);
// Checks the type and the length (against max_payload()); the CRC is checked with the payload.
Result<FrameHeader> decode_frame_header(std::span<const uint8_t> bytes);
Result<void> check_payload(const FrameHeader& header, std::span<const uint8_t> payload);

// HELLO: who sends, the ticket the destination may expect (empty: none), and the machine.
struct Hello {
  std::string vessel_version;
  std::string ticket;
  VirtConfig config;
};
std::vector<uint8_t> encode_hello(const Hello& hello);
Result<Hello> decode_hello(std::span<const uint8_t> payload);

// PAGES and ZERO_PAGES: a run of pages from `first` (page numbers from RAM's start). PAGES has
// their bytes after this header; ZERO_PAGES has none (the pages are zeros now).
struct PageRun {
  uint64_t first = 0;
  uint64_t count = 0;
};
std::array<uint8_t, kPagesHeaderBytes> encode_page_run(PageRun run);
// Checked against RAM of `ram_pages` pages and, for PAGES, the payload's length.
Result<PageRun> decode_page_run(FrameType type, std::span<const uint8_t> payload,
                                uint64_t ram_pages);

// ERROR: one line.
std::vector<uint8_t> encode_error(const std::string& message);
std::string decode_error(std::span<const uint8_t> payload);

}  // namespace vessel::migration
