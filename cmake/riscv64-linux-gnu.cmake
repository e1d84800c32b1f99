# The riscv64 build of Vessel: cross-compiled with Debian's riscv64-linux-gnu-g++ (package
# g++-riscv64-linux-gnu), statically linked, against the libraries scripts/riscv64-sysroot.sh
# unpacks from Debian 13's riscv64 packages. It is the binary that runs inside a Vessel guest
# with --accel kvm (docs/hardware-assist.md).
#
#   scripts/riscv64-sysroot.sh
#   cmake -S . -B build-riscv64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/riscv64-linux-gnu.cmake
#   ninja -C build-riscv64 vessel
#
# The C and C++ runtimes are the cross toolchain's (glibc and libstdc++ of the host's Debian);
# the libraries' headers and static archives, and the kernel's headers, come from the sysroot. Off in this build:
# the x86-64 translator (VESSEL_JIT: the interpreter and --accel kvm remain), --net user
# (VESSEL_SLIRP: Debian has no static libslirp or GLib for it), nbd:// disks (VESSEL_NBD: no
# static libnbd), the web console and the unit tests (they run on the build host).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(CMAKE_C_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER riscv64-linux-gnu-g++)
set(CMAKE_ASM_COMPILER riscv64-linux-gnu-gcc)

set(VESSEL_RISCV64_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/../build-riscv64-sysroot"
    CACHE PATH "Where scripts/riscv64-sysroot.sh unpacked Debian's riscv64 packages")
get_filename_component(VESSEL_RISCV64_SYSROOT "${VESSEL_RISCV64_SYSROOT}" ABSOLUTE)
if(NOT EXISTS "${VESSEL_RISCV64_SYSROOT}/usr/include/libfdt.h")
  message(FATAL_ERROR "${VESSEL_RISCV64_SYSROOT}: no riscv64 sysroot (run scripts/riscv64-sysroot.sh)")
endif()

# Libraries and packages from the sysroot only; programs from the host.
set(CMAKE_FIND_ROOT_PATH "${VESSEL_RISCV64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_LIBRARY_ARCHITECTURE riscv64-linux-gnu)
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
set(ENV{PKG_CONFIG_LIBDIR}
    "${VESSEL_RISCV64_SYSROOT}/usr/lib/riscv64-linux-gnu/pkgconfig:${VESSEL_RISCV64_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${VESSEL_RISCV64_SYSROOT}")
set(PKG_CONFIG_USE_STATIC_LIBS ON)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
# GCC 12 calls libatomic for the byte-sized atomics and the 16-byte compare-and-swap (Zacas).
set(CMAKE_CXX_STANDARD_LIBRARIES "-latomic")
# The sysroot's headers (the kernel's of Debian 13 among them) before the toolchain's own.
foreach(lang C CXX)
  set(CMAKE_${lang}_STANDARD_INCLUDE_DIRECTORIES
      "${VESSEL_RISCV64_SYSROOT}/usr/include/riscv64-linux-gnu" "${VESSEL_RISCV64_SYSROOT}/usr/include")
endforeach()
# Debian ships libfmt as a shared library only: the header-only form stands in for it.
set(fmt_DIR "${CMAKE_CURRENT_LIST_DIR}/riscv64-fmt" CACHE PATH "fmt, header-only" FORCE)

set(VESSEL_JIT OFF CACHE BOOL "")
set(VESSEL_SLIRP OFF CACHE BOOL "")
set(VESSEL_NBD OFF CACHE BOOL "")
set(VESSEL_WEBUI OFF CACHE BOOL "")
set(VESSEL_TESTS OFF CACHE BOOL "")
