#include "compiler/check/dependencies.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace amata::check {

using catalog::Kind;

void check_dependencies(CheckContext& ctx) {
  const std::size_t n = ctx.policy.objects.size();
  std::vector<std::vector<int>> edges(n);
  for (std::size_t id = 0; id < n; ++id) {
    const ast::ObjectDecl& decl = *ctx.object_decls[id];
    for (const ast::Setting& s : decl.settings) {
      if (s.name.text != "depends" || ctx.policy.objects[id].kind != Kind::kService) continue;
      for (const auto& a : s.args) {
        if (a.kind != ast::SettingArg::Kind::kWord) continue;
        const int dep = ctx.policy.find_object(a.text);
        if (dep < 0) {
          std::vector<std::string_view> names;
          for (const auto& o : ctx.policy.objects) {
            if (o.kind == Kind::kService) names.push_back(o.name);
          }
          ctx.diags.report(diag::Code::kBadDependency, a.range,
                           with_suggestion("unknown service " + quote(a.text), a.text, names));
        } else if (ctx.policy.objects[dep].kind != Kind::kService) {
          ctx.diags.report(diag::Code::kBadDependency, a.range,
                           quote(a.text) + " is a " +
                               std::string(catalog::kind_name(ctx.policy.objects[dep].kind)) +
                               "; a service can only depend on services");
        } else if (dep == static_cast<int>(id)) {
          ctx.diags.report(diag::Code::kDependencyCycle, a.range,
                           "service " + quote(a.text) + " depends on itself");
        } else {
          edges[id].push_back(dep);
        }
      }
    }
  }
  // Iterative DFS (no recursion: the object count is unbounded).
  std::vector<int> color(n, 0);  // 0 white, 1 on stack, 2 done
  std::vector<int> parent(n, -1);
  for (std::size_t root = 0; root < n; ++root) {
    if (color[root]) continue;
    std::vector<std::pair<int, std::size_t>> stack{{static_cast<int>(root), 0}};
    color[root] = 1;
    while (!stack.empty()) {
      auto& [v, next] = stack.back();
      if (next < edges[v].size()) {
        const int w = edges[v][next++];
        if (color[w] == 0) {
          color[w] = 1;
          parent[w] = v;
          stack.push_back({w, 0});
        } else if (color[w] == 1) {
          std::string chain = ctx.policy.objects[w].name;
          std::vector<int> cycle;
          for (int x = v; x != w && x >= 0; x = parent[x]) cycle.push_back(x);
          std::reverse(cycle.begin(), cycle.end());
          for (int x : cycle) chain += " -> " + ctx.policy.objects[x].name;
          chain += " -> " + ctx.policy.objects[w].name;
          auto& d = ctx.diags.report(diag::Code::kDependencyCycle, ctx.object_decls[v]->name.range,
                                     "dependency cycle: " + chain);
          d.notes.push_back({ctx.object_decls[w]->name.range,
                             quote(ctx.policy.objects[w].name) + " is declared here"});
        }
      } else {
        color[v] = 2;
        stack.pop_back();
      }
    }
  }
}

}  // namespace amata::check
