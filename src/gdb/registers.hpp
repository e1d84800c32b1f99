// The registers the stub shows GDB, by their numbers in the remote protocol, and the target
// description (qXfer:features:read:target.xml) that names them. The numbering is QEMU's and
// GDB's own for RISC-V: x0-x31 are 0-31, pc 32, f0-f31 33-64, CSR n is 65 + n (fflags,
// frm and fcsr too), and the virtual register priv follows the last CSR.
#pragma once

#include <cstdint>
#include <string>

namespace vessel::gdb {

inline constexpr unsigned kRegPc = 32;
inline constexpr unsigned kRegF0 = 33;
inline constexpr unsigned kRegCsr0 = 65;
inline constexpr unsigned kRegPriv = kRegCsr0 + 4096;
// The registers a g packet carries: x0-x31 and pc.
inline constexpr unsigned kGRegisters = 33;

// Bytes of a register as the protocol carries it (the description's bitsize / 8).
unsigned register_size(unsigned regno);

// The whole target.xml, and the annex GDB asks for by name ("target.xml"), or empty.
const std::string& target_xml();

}  // namespace vessel::gdb
