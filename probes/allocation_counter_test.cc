#include "probes/allocation_counter.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace amata::probes {
namespace {

/// Keeps the compiler from dropping an allocation whose memory is never used.
template <typename T>
T* escape(T* p) {
  asm volatile("" : : "r"(p) : "memory");
  return p;
}

TEST(AllocationCounter, CountsEachCallOfTheMallocFamily) {
  if (!kCountsAllocations) GTEST_SKIP() << "allocation counting is off under ASan";
  std::uint64_t before = allocation_count();
  void* p = escape(std::malloc(64));
  EXPECT_EQ(allocation_count(), before + 1);
  p = escape(std::realloc(p, 4096));
  EXPECT_EQ(allocation_count(), before + 2);
  void* q = escape(std::calloc(8, 8));
  EXPECT_EQ(allocation_count(), before + 3);
  std::free(p);
  std::free(q);
  EXPECT_EQ(allocation_count(), before + 3);  // freeing is not allocating
}

TEST(AllocationCounter, CountsOperatorNew) {
  if (!kCountsAllocations) GTEST_SKIP() << "allocation counting is off under ASan";
  std::uint64_t before = allocation_count();
  // The string object and, past its small-string buffer, its characters.
  auto* heap = escape(new std::string(200, 'x'));
  EXPECT_EQ(allocation_count(), before + 2);
  delete heap;
}

}  // namespace
}  // namespace amata::probes
