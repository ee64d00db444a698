#include "compiler/import/supervisord_import.h"

#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <utility>
#include <vector>

#include "compiler/import/supervisord_ini.h"
#include "compiler/import/supervisord_program.h"
#include "compiler/import/supervisord_values.h"

namespace amata::importer {
namespace {

class SupervisordImporter {
 public:
  explicit SupervisordImporter(const SupervisordOptions& options) : options_(options) {}

  Result<Imported> run(ast::FileId root) {
    root_path_ = rep_.sources().file(root).path;
    if (auto s = read_ini(rep_, root, sections_); !s) return s.error();
    collect_groups();
    global_environment();
    out_ << "# Imported from " << root_path_
         << " by `amatac import supervisord`.\n"
            "# Each [program:x] is a service amatad starts and supervises; its death is a\n"
            "# discover rule and its autorestart a recover rule. Check it with `amatac check`.\n"
            "policy "
         << names_.claim("supervisord") << "\n";
    for (const auto& s : sections_) section(s);
    if (services_ == 0) {
      out_ << "\n# No [program:x] section: nothing for amatad to start.\n";
    }
    Imported result;
    result.policy = out_.str();
    result.warnings = rep_.take_warnings(/*sorted=*/true);
    return result;
  }

  Reporter& reporter() { return rep_; }

 private:
  /// [group:x] programs=a,b: their %(group_name)s is x.
  void collect_groups() {
    for (const auto& s : sections_) {
      if (!s.name.starts_with("group:")) continue;
      if (const Entry* e = s.find("programs")) {
        std::string list = e->value;
        std::replace(list.begin(), list.end(), ',', ' ');
        std::istringstream in(list);
        std::string p;
        while (in >> p) group_of_[p] = s.name.substr(6);
      }
    }
  }

  /// [supervisord] environment=...: every program inherits it.
  void global_environment() {
    for (const auto& s : sections_) {
      if (s.name != "supervisord") continue;
      if (const Entry* e = s.find("environment")) {
        auto expanded = expand(e->value, base_vars(s.loc));
        if (!expanded) {
          rep_.warn(e->value_loc, "environment not imported: " + expanded.error().message);
          continue;
        }
        auto pairs = parse_environment(*expanded);
        if (!pairs) {
          rep_.warn(e->value_loc, "environment not imported: " + pairs.error().message);
          continue;
        }
        global_env_ = *pairs;
      }
    }
  }

  std::map<std::string, std::string> base_vars(Loc at) const {
    std::map<std::string, std::string> vars;
    for (const auto& [k, v] : options_.environment) vars["ENV_" + k] = v;
    vars["here"] =
        at.file == ast::kNoFile ? dir_of(root_path_) : dir_of(rep_.sources().file(at.file).path);
    vars["host_node_name"] = options_.host_name;
    return vars;
  }

  void warn_all(const Section& s, const std::string& why) {
    if (s.entries.empty()) {
      rep_.warn(s.loc, "[" + s.name + "] not imported: " + why);
      return;
    }
    for (const auto& e : s.entries) {
      rep_.warn(e.key_loc, "[" + s.name + "] " + e.key + " not imported: " + why);
    }
  }

  void section(const Section& s) {
    const std::string& n = s.name;
    if (n.starts_with("program:")) {
      const ProgramContext cx{rep_, names_, out_, options_, group_of_, global_env_};
      services_ += import_program(cx, s, base_vars(s.loc));
    } else if (n == "include") {
      // followed above
    } else if (n == "supervisord") {
      for (const auto& e : s.entries) {
        if (e.key == "environment") {
          continue;  // given to every service (global_environment)
        }
        rep_.warn(e.key_loc, "[supervisord] " + e.key +
                                 " not imported: it configures supervisord itself; amatad is "
                                 "configured by its command line and unit (docs/operations.md)");
      }
      if (s.entries.empty()) rep_.warn(s.loc, "[supervisord] is empty: nothing to import");
    } else if (n == "unix_http_server" || n == "inet_http_server" || n == "supervisorctl" ||
               n.starts_with("rpcinterface:") || n == "ctlplugin" || n.starts_with("ctlplugin:")) {
      warn_all(s,
               "supervisord's control interface has no equivalent in the policy; amatactl "
               "talks to amatad over its console socket (amatad --socket)");
    } else if (n.starts_with("group:")) {
      warn_all(s,
               "amata has no process groups; the group's programs are imported as separate "
               "services");
    } else if (n.starts_with("eventlistener:")) {
      warn_all(s,
               "amata has no event listeners on stdin; hook scripts (amatad --hooks) receive "
               "its events instead");
    } else if (n.starts_with("fcgi-program:")) {
      warn_all(s, "amata does not create FastCGI sockets for its services");
    } else {
      warn_all(s, "unknown section");
    }
  }

  const SupervisordOptions& options_;
  Reporter rep_;
  Names names_;
  std::string root_path_;
  std::vector<Section> sections_;
  std::map<std::string, std::string> group_of_;
  std::vector<std::pair<std::string, std::string>> global_env_;
  std::ostringstream out_;
  int services_ = 0;
};

}  // namespace

SupervisordOptions SupervisordOptions::from_process() {
  SupervisordOptions o;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    o.environment.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) o.host_name = host;
  return o;
}

Result<Imported> import_supervisord(const std::string& path, const SupervisordOptions& options) {
  SupervisordImporter importer(options);
  auto id = importer.reporter().sources().load(path);
  if (!id) return Error{"error: cannot read the configuration: " + id.error().message};
  return importer.run(*id);
}

Result<Imported> import_supervisord_text(const std::string& name, std::string text,
                                         const SupervisordOptions& options) {
  SupervisordImporter importer(options);
  auto id = importer.reporter().sources().add(name, std::move(text));
  return importer.run(id);
}

}  // namespace amata::importer
