#include "gdb/registers.hpp"

#include <fmt/format.h>

#include "cpu/riscv/csr.hpp"

namespace vessel::gdb {

namespace {

// GDB's names for x0-x31 (gdb/features/riscv/64bit-cpu.xml).
constexpr const char* kXNames[32] = {"zero", "ra", "sp",  "gp",  "tp", "t0", "t1", "t2",
                                     "fp",   "s1", "a0",  "a1",  "a2", "a3", "a4", "a5",
                                     "a6",   "a7", "s2",  "s3",  "s4", "s5", "s6", "s7",
                                     "s8",   "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
constexpr const char* kFNames[32] = {"ft0", "ft1", "ft2",  "ft3",  "ft4", "ft5", "ft6",  "ft7",
                                     "fs0", "fs1", "fa0",  "fa1",  "fa2", "fa3", "fa4",  "fa5",
                                     "fa6", "fa7", "fs2",  "fs3",  "fs4", "fs5", "fs6",  "fs7",
                                     "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"};

struct CsrName {
  uint16_t number;
  const char* name;
};
// The CSRs every Vessel hart has (the trigger CSRs are left out: --cpu-features -sdtrig
// removes them).
constexpr CsrName kCsrs[] = {
    {rv::kSstatus, "sstatus"}, {rv::kSie, "sie"},
    {rv::kStvec, "stvec"},     {rv::kScounteren, "scounteren"},
    {rv::kSenvcfg, "senvcfg"}, {rv::kSscratch, "sscratch"},
    {rv::kSepc, "sepc"},       {rv::kScause, "scause"},
    {rv::kStval, "stval"},     {rv::kSip, "sip"},
    {rv::kSatp, "satp"},       {rv::kMstatus, "mstatus"},
    {rv::kMisa, "misa"},       {rv::kMedeleg, "medeleg"},
    {rv::kMideleg, "mideleg"}, {rv::kMie, "mie"},
    {rv::kMtvec, "mtvec"},     {rv::kMcounteren, "mcounteren"},
    {rv::kMenvcfg, "menvcfg"}, {rv::kMscratch, "mscratch"},
    {rv::kMepc, "mepc"},       {rv::kMcause, "mcause"},
    {rv::kMtval, "mtval"},     {rv::kMip, "mip"},
    {rv::kMhartid, "mhartid"}, {rv::kCycle, "cycle"},
    {rv::kTime, "time"},       {rv::kInstret, "instret"},
};

std::string build_xml() {
  std::string x =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
      "<target version=\"1.0\">\n<architecture>riscv:rv64</architecture>\n"
      "<feature name=\"org.gnu.gdb.riscv.cpu\">\n";
  for (unsigned i = 0; i < 32; ++i) {
    const char* type = i == 1 ? "code_ptr" : (i == 2 || i == 8) ? "data_ptr" : "int";
    x += fmt::format("<reg name=\"{}\" bitsize=\"64\" type=\"{}\" regnum=\"{}\"/>\n", kXNames[i],
                     type, i);
  }
  x += fmt::format("<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"{}\"/>\n", kRegPc);
  x += "</feature>\n<feature name=\"org.gnu.gdb.riscv.fpu\">\n"
       "<union id=\"riscv_double\"><field name=\"float\" type=\"ieee_single\"/>"
       "<field name=\"double\" type=\"ieee_double\"/></union>\n";
  for (unsigned i = 0; i < 32; ++i) {
    x += fmt::format("<reg name=\"{}\" bitsize=\"64\" type=\"riscv_double\" regnum=\"{}\"/>\n",
                     kFNames[i], kRegF0 + i);
  }
  for (const CsrName& c :
       {CsrName{rv::kFflags, "fflags"}, CsrName{rv::kFrm, "frm"}, CsrName{rv::kFcsr, "fcsr"}}) {
    x += fmt::format("<reg name=\"{}\" bitsize=\"32\" type=\"int\" regnum=\"{}\"/>\n", c.name,
                     kRegCsr0 + c.number);
  }
  x += "</feature>\n<feature name=\"org.gnu.gdb.riscv.csr\">\n";
  for (const CsrName& c : kCsrs) {
    x += fmt::format("<reg name=\"{}\" bitsize=\"64\" type=\"int\" regnum=\"{}\"/>\n", c.name,
                     kRegCsr0 + c.number);
  }
  x += fmt::format(
      "</feature>\n<feature name=\"org.gnu.gdb.riscv.virtual\">\n"
      "<reg name=\"priv\" bitsize=\"64\" type=\"int\" regnum=\"{}\"/>\n</feature>\n</target>\n",
      kRegPriv);
  return x;
}

}  // namespace

unsigned register_size(unsigned regno) {
  const bool fp_csr = regno == kRegCsr0 + rv::kFflags || regno == kRegCsr0 + rv::kFrm ||
                      regno == kRegCsr0 + rv::kFcsr;
  return fp_csr ? 4 : 8;
}

const std::string& target_xml() {
  static const std::string xml = build_xml();
  return xml;
}

}  // namespace vessel::gdb
