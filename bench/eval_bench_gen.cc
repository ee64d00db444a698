// Writes the hand-written-style C++ of the benchmark's rule sets (compiled by g++ -O2 into
// eval_bench): eval_bench_gen OUT.cc N...
#include <fstream>
#include <iostream>
#include <string>

#include "bench/eval_bench.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: eval_bench_gen OUT.cc N...\n";
    return 2;
  }
  std::ofstream out(argv[1]);
  for (int i = 2; i < argc; ++i) {
    const int n = std::stoi(argv[i]);
    out << amata::bench::emit_cpp(*amata::bench::make_bench_program(n),
                                  "handwritten_discover_" + std::to_string(n));
  }
  return out ? 0 : 1;
}
