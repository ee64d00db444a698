// libFuzzer target over the whole front end: any bytes as a policy file through the parser
// and every checker pass, plus both dumps and both diagnostic printers. Includes are not
// followed (the input is in memory and include paths would reach the file system).
// An input that parses is also formatted, and the formatter's promise checked (it parses,
// means the same, formats to itself); a broken promise aborts with both texts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "compiler/check/checker.h"
#include "compiler/diag/printer.h"
#include "compiler/format/promise.h"
#include "compiler/frontend/dump.h"
#include "compiler/parse/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  amata::source::SourceManager sources;
  amata::diag::DiagnosticEngine diags;
  const auto id = sources.add("fuzz.amata", std::string(reinterpret_cast<const char*>(data), size));
  amata::ast::Program program;
  program.files.push_back(amata::parse::parse_file(sources, id, diags));
  (void)amata::frontend::dump_json(amata::frontend::program_to_json(program, sources));
  auto policy = amata::check::check_program(program, sources, diags);
  if (policy) (void)amata::frontend::dump_json(amata::frontend::policy_to_json(*policy, sources));
  const auto sorted = diags.sorted();
  std::ostringstream out;
  amata::diag::print_text(out, sorted, sources);
  (void)amata::diag::to_json(sorted, sources, diags);
  if (auto broken = amata::format::broken_promise(sources.file(id).text)) {
    std::fprintf(stderr, "amatac fmt broke its promise: %s\n", broken->c_str());
    std::abort();
  }
  return 0;
}
