# fmt for the riscv64 build (cmake/riscv64-linux-gnu.cmake): Debian's libfmt-dev has no static
# archive, so fmt::fmt is its headers with FMT_HEADER_ONLY, which compiles its few out-of-line
# functions into every user.
file(STRINGS "${VESSEL_RISCV64_SYSROOT}/usr/include/fmt/core.h" _fmt_version_line
     REGEX "^#define FMT_VERSION [0-9]+")
string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _fmt_version "${_fmt_version_line}")
math(EXPR _fmt_major "${_fmt_version} / 10000")
math(EXPR _fmt_minor "${_fmt_version} / 100 % 100")
math(EXPR _fmt_patch "${_fmt_version} % 100")
set(fmt_VERSION "${_fmt_major}.${_fmt_minor}.${_fmt_patch}")
if(NOT TARGET fmt::fmt)
  add_library(fmt::fmt INTERFACE IMPORTED)
  set_target_properties(fmt::fmt PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${VESSEL_RISCV64_SYSROOT}/usr/include"
    INTERFACE_COMPILE_DEFINITIONS "FMT_HEADER_ONLY=1")
endif()
set(fmt_FOUND TRUE)
