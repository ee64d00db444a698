// The logic behind `amatac check` and `amatac dump`, kept out of tools/ so it can be tested.
// Each returns the process exit code: 0 clean, 1 policy errors (or warnings with --werror,
// or --verify mismatches), 2 usage or I/O errors.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace amata::frontend {

struct CheckOptions {
  std::vector<std::string> files;
  std::string format = "text";  // text | json
  bool werror = false;
  /// Compare diagnostics with `# expect-error@+N: CODE` / `# expect-warning: CODE` comments
  /// in the sources instead of printing them.
  bool verify = false;
  bool color = false;
};

int run_check(const CheckOptions& options, std::ostream& out, std::ostream& err);

struct DumpOptions {
  std::string file;
  /// parse | declarations | constants | objects | discover | recover | lint | check
  std::string after = "check";
};

int run_dump(const DumpOptions& options, std::ostream& out, std::ostream& err);

/// The names --after accepts, in pipeline order.
std::vector<std::string> dump_stages();

}  // namespace amata::frontend
