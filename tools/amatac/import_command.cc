#include "tools/amatac/import_command.h"

#include <cstdio>
#include <fstream>
#include <memory>

#include "compiler/import/monit_import.h"
#include "compiler/import/supervisord_import.h"

namespace amata::amatac {

int run_import(const std::string& format, const std::string& file, const std::string& out_path,
               std::ostream& out, std::ostream& err) {
  Result<importer::Imported> imported =
      format == "monit"
          ? importer::import_monit(file)
          : importer::import_supervisord(file, importer::SupervisordOptions::from_process());
  if (!imported.ok()) {
    err << imported.error().message << "\n";
    return 1;
  }
  for (const auto& w : imported->warnings) err << importer::format_warning(w) << "\n";
  if (const auto n = imported->warnings.size(); n > 0) {
    err << n << (n == 1 ? " statement" : " statements")
        << " not imported, or only in part (the warnings above)\n";
  }
  if (out_path.empty()) {
    out << imported->policy;
    out.flush();
    return out ? 0 : 1;
  }
  // Written beside and renamed: an interrupted import never leaves half a policy.
  const std::string tmp = out_path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << imported->policy;
    f.close();
    if (!f) {
      err << "amatac: error: cannot write " << tmp << "\n";
      std::remove(tmp.c_str());
      return 1;
    }
  }
  if (std::rename(tmp.c_str(), out_path.c_str()) != 0) {
    err << "amatac: error: cannot rename " << tmp << " to " << out_path << "\n";
    std::remove(tmp.c_str());
    return 1;
  }
  return 0;
}

void add_import_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "import", "write an .amata policy equivalent to a Monit or supervisord configuration");
  cmd->require_subcommand(1);
  for (const char* format : {"monit", "supervisord"}) {
    struct Options {
      std::string file, output;
    };
    auto opts = std::make_shared<Options>();
    CLI::App* sub = cmd->add_subcommand(
        format, std::string(format) == "monit"
                    ? "import a monitrc (and the files it includes)"
                    : "import a supervisord.conf (and the files its [include] names)");
    sub->add_option("file", opts->file, "the configuration file")->required();
    sub->add_option("-o,--output", opts->output, "write the policy here instead of stdout");
    const std::string name = format;
    sub->callback([opts, name, &exit_code] {
      exit_code = run_import(name, opts->file, opts->output, std::cout, std::cerr);
    });
  }
}

}  // namespace amata::amatac
