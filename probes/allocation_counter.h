// Counts the heap allocations of the whole process, for the tests and benchmarks that show a
// probe's steady state allocates nothing. Linking amata_allocation_counter replaces glibc's
// malloc, calloc and realloc with counting ones (C++ new goes through malloc, and so do libnl
// and libcurl): test and benchmark binaries only, never amatad.
#pragma once

#include <cstdint>

// Sanitizers own malloc; counting through glibc's would hand ASan memory it never made.
#if defined(__SANITIZE_ADDRESS__)
#define AMATA_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AMATA_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef AMATA_COUNT_ALLOCATIONS
#define AMATA_COUNT_ALLOCATIONS 1
#endif

namespace amata::probes {

/// False under ASan: then nothing is counted and allocation_count() stays 0.
inline constexpr bool kCountsAllocations = AMATA_COUNT_ALLOCATIONS;

/// Calls of malloc, calloc and realloc so far, from every thread.
std::uint64_t allocation_count();

}  // namespace amata::probes
