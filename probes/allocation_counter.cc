#include "probes/allocation_counter.h"

#include <atomic>
#include <cstddef>

namespace {

std::atomic<std::uint64_t> g_allocations{0};

}  // namespace

#if AMATA_COUNT_ALLOCATIONS
// glibc's own entry points, which its malloc family forwards to; ours count and forward too.
extern "C" {
// NOLINTBEGIN(bugprone-reserved-identifier): glibc's names, declared here, not ours to choose
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t n, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);
// NOLINTEND(bugprone-reserved-identifier)
void* malloc(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
void* calloc(std::size_t n, std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, size);
}
}
#endif

namespace amata::probes {

std::uint64_t allocation_count() {
  return g_allocations.load();
}

}  // namespace amata::probes
