#include "compiler/check/escalation.h"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace amata::check {
namespace {

/// One `raise` in the recovery of an event: the event it raises and where.
struct Raise {
  int event;
  ast::SourceRange range;
};

/// Every raise in `body`, in order, inside `when` branches too: a guarded raise may run.
void collect(const ActionList& body, std::vector<Raise>& out) {
  for (const Action& a : body) {
    if (a.kind == Action::Kind::kWhen) {
      collect(a.then_body, out);
      collect(a.else_body, out);
    } else if (a.action == catalog::ActionKind::kRaise) {
      out.push_back({a.event, a.range});
    }
  }
}

}  // namespace

void check_escalations(CheckContext& ctx) {
  const std::size_t n = ctx.policy.events.size();
  std::vector<std::vector<Raise>> edges(n);
  for (const RecoverRule& r : ctx.policy.recover) {
    collect(r.body, edges[static_cast<std::size_t>(r.event)]);
  }
  // Iterative DFS (no recursion: the event count is unbounded) from the events in the order
  // of their recover rules, so a cycle reads in the order it was written.
  std::vector<int> roots;
  for (const RecoverRule& r : ctx.policy.recover) roots.push_back(r.event);
  std::vector<int> color(n, 0);  // 0 unseen, 1 on the stack, 2 done
  struct Frame {
    int event;
    std::size_t next;  // edges[event][next - 1] is the edge followed to the frame above
  };
  for (const int root_event : roots) {
    const auto root = static_cast<std::size_t>(root_event);
    if (color[root] != 0) continue;
    std::vector<Frame> stack{{static_cast<int>(root), 0}};
    color[root] = 1;
    while (!stack.empty()) {
      Frame& top = stack.back();
      const auto& out = edges[static_cast<std::size_t>(top.event)];
      if (top.next == out.size()) {
        color[static_cast<std::size_t>(top.event)] = 2;
        stack.pop_back();
        continue;
      }
      const Raise& edge = out[top.next++];
      const auto w = static_cast<std::size_t>(edge.event);
      if (color[w] == 0) {
        color[w] = 1;
        stack.push_back({edge.event, 0});
        continue;
      }
      if (color[w] != 1) continue;
      // A cycle: the frames from w's up to the top, each left by the edge it followed, then
      // `edge` back to w.
      std::size_t first = 0;
      while (stack[first].event != edge.event) ++first;
      std::vector<std::pair<int, const Raise*>> steps;
      for (std::size_t i = first; i + 1 < stack.size(); ++i) {
        steps.emplace_back(stack[i].event,
                           &edges[static_cast<std::size_t>(stack[i].event)][stack[i].next - 1]);
      }
      steps.emplace_back(top.event, &edge);
      const auto name = [&](int e) { return ctx.policy.events[static_cast<std::size_t>(e)].name; };
      std::string chain = name(edge.event);
      for (const auto& [from, raise] : steps) chain += " -> " + name(raise->event);
      auto& d = ctx.diags.report(
          diag::Code::kRaiseCycle, edge.range,
          "escalation cycle: " + chain + "; amatad would run these recoveries forever");
      for (const auto& [from, raise] : steps) {
        d.notes.push_back({raise->range, "recovering " + quote(name(from)) + " raises " +
                                             quote(name(raise->event))});
      }
    }
  }
}

}  // namespace amata::check
