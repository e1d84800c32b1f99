// Result<T> and TRY: the error channel for people-facing code (files, options, config).
// Guest traps do NOT use this type: the hart reports them as plain values (see cpu/riscv/trap.hpp)
// because they are on the hot path and must be able to cross JIT frames later.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace vessel {

// One-line, human readable error: "kernel.bin: file is truncated (12 bytes, need 64)".
struct Error {
  std::string message;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }
  Error&& take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error)
      : err_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return err_; }
  Error&& take_error() { return std::move(err_); }

 private:
  Error err_;
  bool ok_ = true;
};

inline Error make_error(std::string message) { return Error{std::move(message)}; }

// What an errno value says (errno's own by default), for the end of such a line:
// "disk.img: No such file or directory".
inline std::string errno_text(int err = errno) { return std::strerror(err); }

}  // namespace vessel

// TRY(expr): evaluate a Result; on error return the error from the enclosing function,
// otherwise yield the value (GNU statement expression, as SerenityOS and Hedron do).
#define TRY(expr)                                           \
  ({                                                        \
    auto _vessel_try = (expr);                              \
    if (!_vessel_try.ok()) return _vessel_try.take_error(); \
    std::move(_vessel_try).value();                         \
  })

#define TRY_VOID(expr)                                      \
  do {                                                      \
    auto _vessel_try = (expr);                              \
    if (!_vessel_try.ok()) return _vessel_try.take_error(); \
  } while (0)
