// The reset vector in the boot ROM at 0x1000, where every hart starts (QEMU virt's mrom).
// It hands over to the firmware as OpenSBI's fw_dynamic expects on RV64:
//   a0 = mhartid, a1 = device tree address, a2 = &fw_dynamic_info (in the ROM after the code),
// then jumps to start_addr in M-mode. fw_jump and fw_payload ignore a2.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace vessel {

constexpr uint64_t kBootRomBase = 0x1000;
constexpr uint64_t kBootRomSize = 0xF000;

// OpenSBI include/sbi/fw_dynamic.h: six `unsigned long` fields, 64-bit on RV64.
struct FwDynamicInfo {
  static constexpr uint64_t kMagic = 0x4942534f;  // "OSBI"
  // Version 2 adds boot_hart; OpenSBI reads it only when version >= 2.
  static constexpr uint64_t kVersion = 2;
  enum NextMode : uint64_t { kNextModeU = 0, kNextModeS = 1, kNextModeM = 3 };
  // boot_hart ~0: any hart may win OpenSBI's cold-boot lottery. QEMU passes 0 (hart 0 boots).
  static constexpr uint64_t kAnyHart = ~uint64_t{0};

  uint64_t next_addr = 0;
  uint64_t next_mode = kNextModeS;
  uint64_t options = 0;
  uint64_t boot_hart = 0;
};

// Byte offsets in the ROM image.
constexpr uint64_t kResetCodeSize = 0x18;        // six 32-bit instructions
constexpr uint64_t kStartAddrOffset = 0x18;      // .dword start_addr
constexpr uint64_t kFdtAddrOffset = 0x20;        // .dword fdt_addr
constexpr uint64_t kFwDynamicInfoOffset = 0x28;  // struct fw_dynamic_info

// Offsets of the fw_dynamic_info members (FW_DYNAMIC_INFO_*_OFFSET with __SIZEOF_LONG__ 8).
constexpr uint64_t kInfoMagic = 0, kInfoVersion = 8, kInfoNextAddr = 16, kInfoNextMode = 24,
                   kInfoOptions = 32, kInfoBootHart = 40, kInfoSize = 48;

// Without `info`, a2 is 0 and no struct follows the addresses.
std::vector<uint8_t> make_reset_vector(uint64_t start_addr, uint64_t fdt_addr,
                                       std::optional<FwDynamicInfo> info);

// Just enough of an RV64I/Zicsr encoder for the reset vector (unprivileged spec, chapter
// "RV32I Base Integer Instruction Set": U-type and I-type formats).
namespace rvasm {

enum Reg : uint32_t {
  zero = 0,
  ra = 1,
  sp = 2,
  t0 = 5,
  t1 = 6,
  t2 = 7,
  s0 = 8,
  a0 = 10,
  a1 = 11,
  a2 = 12,
  a5 = 15,
  t6 = 31
};
enum Csr : uint32_t { mstatus = 0x300, mhartid = 0xF14 };
enum Opcode : uint32_t { OP_IMM = 0x13, AUIPC = 0x17, LOAD = 0x03, JALR = 0x67, SYSTEM = 0x73 };
enum Funct3 : uint32_t { F3_ADDI = 0, F3_LD = 3, F3_JALR = 0, F3_CSRRS = 2 };

constexpr uint32_t i_type(Opcode op, uint32_t funct3, Reg rd, Reg rs1, int32_t imm12) {
  return (static_cast<uint32_t>(imm12) & 0xFFF) << 20 | static_cast<uint32_t>(rs1) << 15 |
         funct3 << 12 | static_cast<uint32_t>(rd) << 7 | op;
}
// imm20 is the upper immediate as the assembler writes it (the value added is imm20 << 12).
constexpr uint32_t auipc(Reg rd, uint32_t imm20) {
  return (imm20 & 0xFFFFF) << 12 | static_cast<uint32_t>(rd) << 7 | AUIPC;
}
constexpr uint32_t addi(Reg rd, Reg rs1, int32_t imm12) {
  return i_type(OP_IMM, F3_ADDI, rd, rs1, imm12);
}
constexpr uint32_t ld(Reg rd, Reg rs1, int32_t imm12) {
  return i_type(LOAD, F3_LD, rd, rs1, imm12);
}
constexpr uint32_t jalr(Reg rd, Reg rs1, int32_t imm12) {
  return i_type(JALR, F3_JALR, rd, rs1, imm12);
}
// csrr rd, csr is csrrs rd, csr, x0: the CSR number sits in the I-type immediate field.
constexpr uint32_t csrr(Reg rd, Csr csr) {
  return i_type(SYSTEM, F3_CSRRS, rd, zero, static_cast<int32_t>(csr));
}

}  // namespace rvasm
}  // namespace vessel
