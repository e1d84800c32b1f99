#include "torture/asm.hpp"

#include <fmt/format.h>

#include "base/bits.hpp"
#include "encode.hpp"

namespace vessel::rv::torture {

namespace enc = test::enc;

void Asm::word(uint32_t w) {
  bytes_.resize(bytes_.size() + 4);
  put32(bytes_.size() - 4, w);
}

void Asm::half(uint16_t h) {
  bytes_.resize(bytes_.size() + 2);
  put16(bytes_.size() - 2, h);
}

void Asm::org(uint64_t pa) {
  if (pa < here()) std::abort();  // a layout bug in the generator
  bytes_.resize(pa - base_);
}

void Asm::put32(uint64_t at, uint32_t w) { store_le<uint32_t>(bytes_.data() + at, w); }
void Asm::put16(uint64_t at, uint16_t h) { store_le<uint16_t>(bytes_.data() + at, h); }

Label Asm::label() {
  offsets_.push_back(kUnbound);
  return Label{static_cast<uint32_t>(offsets_.size() - 1)};
}

void Asm::bind(Label l) { offsets_.at(l.id) = bytes_.size(); }

void Asm::branch(uint32_t insn, Label target) {
  fixups_.push_back({Kind::kBranch, bytes_.size(), target});
  word(insn);
}

void Asm::jal(unsigned rd, Label target) {
  fixups_.push_back({Kind::kJal, bytes_.size(), target});
  word(enc::jal(rd, 0));
}

void Asm::c_j(Label target) {
  fixups_.push_back({Kind::kCj, bytes_.size(), target});
  half(enc::c_j(0));
}

void Asm::c_bz(bool nonzero, unsigned rs1, Label target) {
  fixups_.push_back({Kind::kCbz, bytes_.size(), target});
  half(enc::c_bz(nonzero, rs1, 0));
}

void Asm::la(unsigned rd, Label target) {
  fixups_.push_back({Kind::kAuipcPair, bytes_.size(), target});
  word(enc::auipc(rd, 0));
  word(enc::addi(rd, rd, 0));
}

void Asm::la(unsigned rd, uint64_t target) {
  const auto off = static_cast<int64_t>(target - here());
  const int64_t lo = sext(static_cast<uint64_t>(off) & 0xfff, 12);
  word(enc::auipc(rd, static_cast<uint32_t>((off - lo) >> 12) & 0xfffff));
  word(enc::addi(rd, rd, static_cast<int32_t>(lo)));
}

void Asm::jalr_to(unsigned tmp, unsigned rd, Label target) {
  fixups_.push_back({Kind::kAuipcPair, bytes_.size(), target});
  word(enc::auipc(tmp, 0));
  word(enc::jalr(rd, tmp, 0));
}

void Asm::li(unsigned rd, uint64_t value) {
  const auto s = static_cast<int64_t>(value);
  const int64_t lo = sext(value & 0xfff, 12);
  if (s >= INT32_MIN && s <= INT32_MAX) {
    const auto hi = static_cast<uint32_t>((s - lo) >> 12) & 0xfffff;
    if (hi == 0) {
      word(enc::addi(rd, test::zero, static_cast<int32_t>(lo)));
      return;
    }
    word(enc::lui(rd, hi));
    if (lo != 0) word(enc::addiw(rd, rd, static_cast<int32_t>(lo)));
    return;
  }
  // value = hi << 12 + lo, with hi computed modulo 2^64 (value - lo may wrap).
  const int64_t hi = static_cast<int64_t>(value - static_cast<uint64_t>(lo)) >> 12;
  li(rd, static_cast<uint64_t>(hi));
  word(enc::slli(rd, rd, 12));
  if (lo != 0) word(enc::addi(rd, rd, static_cast<int32_t>(lo)));
}

void Asm::li32(unsigned rd, uint32_t value) {
  const int64_t lo = sext(value & 0xfff, 12);
  const auto hi = static_cast<uint32_t>((static_cast<int64_t>(value) - lo) >> 12) & 0xfffff;
  word(enc::lui(rd, hi));
  word(enc::addiw(rd, rd, static_cast<int32_t>(lo)));
}

bool Asm::resolve(const Fixup& f, std::string& error) {
  if (!bound(f.target)) {
    error = fmt::format("unbound label {} used at {:#x}", f.target.id, base_ + f.at);
    return false;
  }
  const int64_t off = static_cast<int64_t>(offsets_[f.target.id]) - static_cast<int64_t>(f.at);
  auto in_range = [&](int64_t lo, int64_t hi) {
    if (off >= lo && off <= hi) return true;
    error = fmt::format("target {:+} out of reach at {:#x}", off, base_ + f.at);
    return false;
  };
  const auto off32 = static_cast<int32_t>(off);
  uint8_t* p = bytes_.data() + f.at;
  switch (f.kind) {
    case Kind::kBranch:
      if (!in_range(-4096, 4094)) return false;
      put32(f.at, load_le<uint32_t>(p) | enc::b(0, 0, 0, off32));
      return true;
    case Kind::kJal:
      if (!in_range(-(1 << 20), (1 << 20) - 2)) return false;
      put32(f.at, load_le<uint32_t>(p) | enc::jal(0, off32));
      return true;
    case Kind::kCj:
      if (!in_range(-2048, 2046)) return false;
      put16(f.at, enc::c_j(off32));
      return true;
    case Kind::kCbz:
      if (!in_range(-256, 254)) return false;
      put16(f.at, load_le<uint16_t>(p) | (enc::c_bz(false, 8, off32) & 0x1c7c));  // offset bits
      return true;
    case Kind::kAuipcPair: {
      const int64_t lo = sext(static_cast<uint64_t>(off) & 0xfff, 12);
      const auto hi = static_cast<uint32_t>((off - lo) >> 12) & 0xfffff;
      put32(f.at, load_le<uint32_t>(p) | hi << 12);
      put32(f.at + 4, load_le<uint32_t>(p + 4) | (static_cast<uint32_t>(lo) & 0xfff) << 20);
      return true;
    }
  }
  return false;
}

bool Asm::finish(std::string& error) {
  for (const Fixup& f : fixups_) {
    if (!resolve(f, error)) return false;
  }
  fixups_.clear();
  return true;
}

}  // namespace vessel::rv::torture
