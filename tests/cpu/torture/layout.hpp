// Where a generated torture program keeps what, in physical memory and in the virtual address
// spaces its page tables build. RAM is 128 KiB of 4 KiB pages (small: the lockstep checker
// compares all of it after every block):
//
//   page  0      prologue (M-mode set-up), the final `j .` and the register init table
//   page  1      M-mode trap handler (mtvec; a vector table first when vectored)
//   page  2      S-mode trap handler (stvec)
//   page  3      trap log: what each handler saw last, and counts
//   pages 4-15   the random body
//   pages 16-23  data: s0, s1 and sp point into it; page 20 is the probe page, whose mapping
//                (and PMP entry) the program changes to make loads and stores fault
//   pages 24-30  page tables
//   pages 32-35  with the H extension (Config::virt) only: the G stage's root (Sv39x4, or
//                Sv48x4 through its own entry 0), in RAM of kRamSizeVirt
//
// Virtual memory (Sv39, and Sv48 whose root points at the Sv39 root twice):
//   identity      VA = PA for pages 0-23 (not U): M, S and the handlers run here
//   alias         VA = PA + 4 GiB for code and data (U): U-mode runs here
//   windows       a gigapage at 3 GiB and a megapage at 8 GiB onto RAM (loads only), a
//                 misaligned gigapage at 4 GiB (always faults), and in Sv48 a second copy of
//                 the low 512 GiB at 512 GiB (non-canonical in Sv39)
#pragma once

#include <cstdint>

namespace vessel::rv::torture::layout {

inline constexpr uint64_t kRamBase = 0x80000000;
inline constexpr uint64_t kRamSize = 128 << 10;
inline constexpr uint64_t kPageSize = 0x1000;
constexpr uint64_t page(unsigned n) { return kRamBase + n * kPageSize; }

inline constexpr uint64_t kEntry = page(0);
inline constexpr uint64_t kMHandler = page(1);
inline constexpr uint64_t kSHandler = page(2);
inline constexpr uint64_t kLog = page(3);
inline constexpr unsigned kFirstCodePage = 4, kEndCodePage = 16;
inline constexpr uint64_t kCode = page(kFirstCodePage);
inline constexpr uint64_t kCodeEnd = page(kEndCodePage);
inline constexpr unsigned kFirstDataPage = 16, kEndDataPage = 24;
inline constexpr unsigned kProbePage = 20;
inline constexpr uint64_t kS0 = page(18);          // window: page 17's top half, page 18's bottom
inline constexpr uint64_t kS1 = page(kProbePage);  // window: page 19's top half, the probe page
inline constexpr uint64_t kSp = page(22) + 0x800;  // window: page 22
inline constexpr unsigned kFirstTablePage = 24;
inline constexpr uint64_t kRoot39 = page(kFirstTablePage);
inline constexpr uint64_t kL1Identity = page(kFirstTablePage + 1);
inline constexpr uint64_t kL1Alias = page(kFirstTablePage + 2);
inline constexpr uint64_t kL1Window = page(kFirstTablePage + 3);
inline constexpr uint64_t kL0Identity = page(kFirstTablePage + 4);
inline constexpr uint64_t kL0Alias = page(kFirstTablePage + 5);
inline constexpr uint64_t kRoot48 = page(kFirstTablePage + 6);
inline constexpr uint64_t kGRoot = page(32);  // 16 KiB aligned, as hgatp's root must be
inline constexpr uint64_t kRamSizeVirt = kRamSize + 0x4000;

// Trap log slots (byte offsets in the log page): M at 0, S at 64.
inline constexpr unsigned kLogCause = 0, kLogEpc = 8, kLogTval = 16, kLogCount = 24;
inline constexpr unsigned kLogIntCause = 32, kLogIntCount = 40, kLogS = 64;

// Virtual address spaces.
inline constexpr uint64_t kAlias = 1ULL << 32;
inline constexpr uint64_t kGigaWindow = 0xC0000000;       // Sv39 VPN[2] = 3
inline constexpr uint64_t kMisalignedGiga = 0x100000000;  // VPN[2] = 4
inline constexpr uint64_t kMegaWindow = 0x200000000;      // VPN[2] = 8, VPN[1] = 0
inline constexpr uint64_t kSv48Copy = 1ULL << 39;         // Sv48 VPN[3] = 1
inline constexpr uint64_t kUnmapped = page(31);           // in the identity range, no PTE

// a7 values an ecall uses to ask the handlers for something (any other a7: a plain ecall).
inline constexpr uint64_t kMagicUp = 0x5ec0de0000000001ULL;   // return in the handler's mode
inline constexpr uint64_t kMagicEnd = 0x5ec0de00000000ffULL;  // the program is done

}  // namespace vessel::rv::torture::layout
