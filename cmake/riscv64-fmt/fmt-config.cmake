# fmt for the riscv64 build (cmake/riscv64-linux-gnu.cmake): Debian's libfmt-dev has no static
# archive, so fmt::fmt is its headers plus a static library of its out-of-line part compiled
# once from them (fmt_impl.cpp), rather than FMT_HEADER_ONLY in every user.
file(STRINGS "${VESSEL_RISCV64_SYSROOT}/usr/include/fmt/core.h" _fmt_version_line
     REGEX "^#define FMT_VERSION [0-9]+")
string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _fmt_version "${_fmt_version_line}")
math(EXPR _fmt_major "${_fmt_version} / 10000")
math(EXPR _fmt_minor "${_fmt_version} / 100 % 100")
math(EXPR _fmt_patch "${_fmt_version} % 100")
set(fmt_VERSION "${_fmt_major}.${_fmt_minor}.${_fmt_patch}")
if(NOT TARGET fmt::fmt)
  add_library(vessel_fmt_riscv64 STATIC "${CMAKE_CURRENT_LIST_DIR}/fmt_impl.cpp")
  target_include_directories(vessel_fmt_riscv64 SYSTEM PUBLIC "${VESSEL_RISCV64_SYSROOT}/usr/include")
  add_library(fmt::fmt ALIAS vessel_fmt_riscv64)
endif()
set(fmt_FOUND TRUE)
