// A state machine over a string, as CoreMark's state kernel: 32 KiB of comma-separated tokens
// (integers, signed numbers, decimals, scientific notation, hex and garbage) scanned one
// character at a time, each token classified by the state it ends in. Byte loads and a switch
// whose branches depend on the data.
#include <stddef.h>

#include "cpubench.h"

enum { kBytes = 32 * 1024 };
enum state { kStart, kInt, kSign, kPoint, kFloat, kExp, kExpSign, kSci, kZero, kHex, kInvalid,
             kStates };

static uint8_t text[kBytes];

static void setup(const char* self) {
  (void)self;
  static const char* const pieces[] = {"0",    "7",   "42",  "-",  "+",  "3.",  ".5", "e",  "E-",
                                       "x",    "0x",  "1f",  "9",  "12", "a",   "e3", ".",  "-8",
                                       "2.25", "1e9", "FF",  "00", "z",  "6e+"};
  uint64_t s = 0xfeedfacecafebeefULL;
  size_t n = 0;
  while (n < kBytes) {
    // A token of 1 to 3 pieces, then a comma.
    const int count = 1 + (int)(rng_next(&s) % 3);
    for (int i = 0; i < count; ++i) {
      const char* p = pieces[rng_next(&s) % (sizeof(pieces) / sizeof(pieces[0]))];
      while (*p && n < kBytes) text[n++] = (uint8_t)*p++;
    }
    if (n < kBytes) text[n++] = ',';
  }
  text[kBytes - 1] = ',';
}

static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static int is_hex(uint8_t c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static enum state next(enum state st, uint8_t c) {
  switch (st) {
    case kStart:
      if (c == '0') return kZero;
      if (is_digit(c)) return kInt;
      if (c == '+' || c == '-') return kSign;
      if (c == '.') return kPoint;
      return kInvalid;
    case kZero:
      if (c == 'x' || c == 'X') return kHex;
      if (is_digit(c)) return kInt;
      if (c == '.') return kFloat;
      if (c == 'e' || c == 'E') return kExp;
      return kInvalid;
    case kSign:
      if (is_digit(c)) return kInt;
      if (c == '.') return kPoint;
      return kInvalid;
    case kInt:
      if (is_digit(c)) return kInt;
      if (c == '.') return kFloat;
      if (c == 'e' || c == 'E') return kExp;
      return kInvalid;
    case kPoint:
      return is_digit(c) ? kFloat : kInvalid;
    case kFloat:
      if (is_digit(c)) return kFloat;
      if (c == 'e' || c == 'E') return kExp;
      return kInvalid;
    case kExp:
      if (is_digit(c)) return kSci;
      if (c == '+' || c == '-') return kExpSign;
      return kInvalid;
    case kExpSign:
    case kSci:
      return is_digit(c) ? kSci : kInvalid;
    case kHex:
      return is_hex(c) ? kHex : kInvalid;
    default:
      return kInvalid;
  }
}

static uint64_t unit(void) {
  uint32_t finals[kStates] = {0};
  uint32_t transitions = 0;
  enum state st = kStart;
  for (size_t i = 0; i < kBytes; ++i) {
    const uint8_t c = text[i];
    if (c == ',') {
      ++finals[st];
      st = kStart;
      continue;
    }
    const enum state to = next(st, c);
    transitions += to != st;
    st = to;
  }
  uint64_t h = transitions;
  for (int k = 0; k < kStates; ++k) h = mix(h, finals[k]);
  return h;
}

const struct bench bench_state = {"state", "iter", 1, setup, unit, NULL};
