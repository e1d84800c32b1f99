// Whether this build runs under AddressSanitizer (gcc's -fsanitize=address defines
// __SANITIZE_ADDRESS__; clang answers __has_feature): memory Vessel manages itself must then
// tell ASan what it hands out, or be left to the heap, whose every byte ASan checks.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define VESSEL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VESSEL_ASAN 1
#endif
#endif
#ifndef VESSEL_ASAN
#define VESSEL_ASAN 0
#endif
