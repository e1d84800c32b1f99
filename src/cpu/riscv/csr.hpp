// CSR numbers and field layouts, named as in the privileged manual.
#pragma once

#include <cstdint>

namespace vessel::rv {

// clang-format off
enum Csr : uint16_t {
  // Unprivileged floating point and counters
  kFflags = 0x001, kFrm = 0x002, kFcsr = 0x003,
  kCycle = 0xc00, kTime = 0xc01, kInstret = 0xc02, kHpmcounter3 = 0xc03, kHpmcounter31 = 0xc1f,
  // Supervisor
  kSstatus = 0x100, kSie = 0x104, kStvec = 0x105, kScounteren = 0x106, kSenvcfg = 0x10a,
  kSscratch = 0x140, kSepc = 0x141, kScause = 0x142, kStval = 0x143, kSip = 0x144,
  kStimecmp = 0x14d, kSatp = 0x180, kScountovf = 0xda0,
  // Machine
  kMvendorid = 0xf11, kMarchid = 0xf12, kMimpid = 0xf13, kMhartid = 0xf14, kMconfigptr = 0xf15,
  kMstatus = 0x300, kMisa = 0x301, kMedeleg = 0x302, kMideleg = 0x303, kMie = 0x304,
  kMtvec = 0x305, kMcounteren = 0x306, kMenvcfg = 0x30a, kMcountinhibit = 0x320,
  kMhpmevent3 = 0x323, kMhpmevent31 = 0x33f,
  kMscratch = 0x340, kMepc = 0x341, kMcause = 0x342, kMtval = 0x343, kMip = 0x344,
  kPmpcfg0 = 0x3a0, kPmpcfg15 = 0x3af, kPmpaddr0 = 0x3b0, kPmpaddr63 = 0x3ef,
  // Sdtrig (debug specification): tcontrol, mcontext and the other optional ones are absent
  kTselect = 0x7a0, kTdata1 = 0x7a1, kTdata2 = 0x7a2, kTdata3 = 0x7a3, kTinfo = 0x7a4,
  // Hypervisor (H extension) and virtual supervisor
  kHstatus = 0x600, kHedeleg = 0x602, kHideleg = 0x603, kHie = 0x604, kHtimedelta = 0x605,
  kHcounteren = 0x606, kHgeie = 0x607, kHenvcfg = 0x60a, kHtval = 0x643, kHip = 0x644,
  kHvip = 0x645, kHtinst = 0x64a, kHgatp = 0x680, kHgeip = 0xe12,
  kVsstatus = 0x200, kVsie = 0x204, kVstvec = 0x205, kVsscratch = 0x240, kVsepc = 0x241,
  kVscause = 0x242, kVstval = 0x243, kVsip = 0x244, kVstimecmp = 0x24d, kVsatp = 0x280,
  kMtinst = 0x34a, kMtval2 = 0x34b,
  kMcycle = 0xb00, kMinstret = 0xb02, kMhpmcounter3 = 0xb03, kMhpmcounter31 = 0xb1f,
};
// clang-format on

namespace envcfg {
inline constexpr uint64_t kFIOM = 1;
// Zicbom: cbo.inval allowed (CBIE 01: it flushes, 11: it invalidates; 10 is reserved), and
// cbo.clean/cbo.flush allowed; Zicboz: cbo.zero allowed. Each for the modes below the CSR's.
inline constexpr unsigned kCBIEShift = 4;
inline constexpr uint64_t kCBIE = 3ULL << kCBIEShift;
inline constexpr uint64_t kCBIEInvalidate = 3ULL << kCBIEShift;
inline constexpr uint64_t kCBIEReserved = 2ULL << kCBIEShift;
inline constexpr uint64_t kCBCFE = 1ULL << 6;
inline constexpr uint64_t kCBZE = 1ULL << 7;
inline constexpr uint64_t kPBMTE = 1ULL << 62;  // Svpbmt: PTEs' PBMT bits are honoured
inline constexpr uint64_t kSTCE = 1ULL << 63;   // Sstc: stimecmp drives STIP
}  // namespace envcfg

namespace mstatus {
inline constexpr uint64_t kSIE = 1ULL << 1;
inline constexpr uint64_t kMIE = 1ULL << 3;
inline constexpr uint64_t kSPIE = 1ULL << 5;
inline constexpr uint64_t kMPIE = 1ULL << 7;
inline constexpr uint64_t kSPP = 1ULL << 8;
inline constexpr unsigned kMPPShift = 11;
inline constexpr uint64_t kMPP = 3ULL << kMPPShift;
inline constexpr unsigned kFSShift = 13;
inline constexpr uint64_t kFS = 3ULL << kFSShift;
inline constexpr uint64_t kMPRV = 1ULL << 17;
inline constexpr uint64_t kSUM = 1ULL << 18;
inline constexpr uint64_t kMXR = 1ULL << 19;
inline constexpr uint64_t kTVM = 1ULL << 20;
inline constexpr uint64_t kTW = 1ULL << 21;
inline constexpr uint64_t kTSR = 1ULL << 22;
inline constexpr uint64_t kUXL = 3ULL << 32;
inline constexpr uint64_t kSXL = 3ULL << 34;
inline constexpr uint64_t kGVA = 1ULL << 38;  // H: the trap's tval is a guest virtual address
inline constexpr uint64_t kMPV = 1ULL << 39;  // H: the virtualization mode before the trap
inline constexpr uint64_t kSD = 1ULL << 63;
// Fields software can write in mstatus (UBE/SBE/MBE are 0: little-endian only; VS/XS are 0).
inline constexpr uint64_t kWritable =
    kSIE | kMIE | kSPIE | kMPIE | kSPP | kMPP | kFS | kMPRV | kSUM | kMXR | kTVM | kTW | kTSR;
// The sstatus view of mstatus.
inline constexpr uint64_t kSstatusMask = kSIE | kSPIE | kSPP | kFS | kSUM | kMXR | kUXL | kSD |
                                         (3ULL << 9) /*VS*/ | (3ULL << 15) /*XS*/ |
                                         (1ULL << 6) /*UBE*/;
}  // namespace mstatus

// hstatus (H extension).
namespace hstatus {
inline constexpr uint64_t kGVA = 1ULL << 6;
inline constexpr uint64_t kSPV = 1ULL << 7;
inline constexpr uint64_t kSPVP = 1ULL << 8;
inline constexpr uint64_t kHU = 1ULL << 9;
inline constexpr uint64_t kVTVM = 1ULL << 20;
inline constexpr uint64_t kVTW = 1ULL << 21;
inline constexpr uint64_t kVTSR = 1ULL << 22;
inline constexpr uint64_t kVSXL = 3ULL << 32;  // read-only 2: VS-mode is 64-bit
inline constexpr uint64_t kWritable = kGVA | kSPV | kSPVP | kHU | kVTVM | kVTW | kVTSR;
}  // namespace hstatus

// Interrupt bits in mip/mie.
namespace irq {
inline constexpr uint64_t kSSIP = 1ULL << 1;
inline constexpr uint64_t kMSIP = 1ULL << 3;
inline constexpr uint64_t kSTIP = 1ULL << 5;
inline constexpr uint64_t kMTIP = 1ULL << 7;
inline constexpr uint64_t kSEIP = 1ULL << 9;
inline constexpr uint64_t kMEIP = 1ULL << 11;
inline constexpr uint64_t kAll = kSSIP | kMSIP | kSTIP | kMTIP | kSEIP | kMEIP;
inline constexpr uint64_t kSupervisor = kSSIP | kSTIP | kSEIP;
// H: the virtual supervisor's interrupts (hvip, hideleg) and the guest external one (SGEI).
inline constexpr uint64_t kVSSIP = 1ULL << 2;
inline constexpr uint64_t kVSTIP = 1ULL << 6;
inline constexpr uint64_t kVSEIP = 1ULL << 10;
inline constexpr uint64_t kSGEIP = 1ULL << 12;
inline constexpr uint64_t kVirtualSupervisor = kVSSIP | kVSTIP | kVSEIP;
inline constexpr uint64_t kHypervisor = kVirtualSupervisor | kSGEIP;
// Sscofpmf: the local counter-overflow interrupt, a supervisor-level one software may write.
inline constexpr uint64_t kLCOFIP = 1ULL << 13;
}  // namespace irq

// mcause, scause, vscause: set for an interrupt, clear for an exception.
inline constexpr uint64_t kCauseInterrupt = 1ULL << 63;

// Synchronous exception causes (mcause with the interrupt bit clear).
enum class Exception : uint8_t {
  kInstructionAddressMisaligned = 0,
  kInstructionAccessFault = 1,
  kIllegalInstruction = 2,
  kBreakpoint = 3,
  kLoadAddressMisaligned = 4,
  kLoadAccessFault = 5,
  kStoreAddressMisaligned = 6,
  kStoreAccessFault = 7,
  kEcallFromU = 8,
  kEcallFromS = 9,
  kEcallFromM = 11,
  kInstructionPageFault = 12,
  kLoadPageFault = 13,
  kStorePageFault = 15,
  // H extension
  kEcallFromVS = 10,
  kInstructionGuestPageFault = 20,
  kLoadGuestPageFault = 21,
  kVirtualInstruction = 22,
  kStoreGuestPageFault = 23,
};

enum class Priv : uint8_t { kU = 0, kS = 1, kM = 3 };

}  // namespace vessel::rv
