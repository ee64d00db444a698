#include "compiler/ir/compiled_policy.h"

#include "compiler/ir/eval.h"
#include "compiler/ir/ir.h"
#include "compiler/ir/runtime.h"

namespace amata::ir {

const SlotInfo* PolicyTables::find_slot(int object, std::string_view attribute) const {
  for (const SlotInfo& s : slots) {
    if (s.object == object && s.attribute == attribute) return &s;
  }
  return nullptr;
}

int PolicyTables::find_object(std::string_view object_name) const {
  for (std::size_t i = 0; i < objects.size(); ++i) {
    if (objects[i].name == object_name) return static_cast<int>(i);
  }
  return -1;
}

int PolicyTables::find_event(std::string_view event_name) const {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].name == event_name) return static_cast<int>(i);
  }
  return -1;
}

CompiledPolicy::CompiledPolicy(std::shared_ptr<const Program> program,
                               std::vector<base::Regex> regexes)
    : program_(std::move(program)), regexes_(std::move(regexes)) {}

const PolicyTables& CompiledPolicy::tables() const {
  return program_->tables;
}

PolicyState CompiledPolicy::make_state() const {
  const PolicyTables& t = tables();
  std::vector<double> horizons(static_cast<std::size_t>(t.number_slot_count), 0.0);
  std::vector<bool> keep(static_cast<std::size_t>(t.number_slot_count), false);
  for (const SlotInfo& s : t.slots) {
    if (s.is_string || !s.needs_history) continue;
    horizons[static_cast<std::size_t>(s.index)] = s.history_seconds;
    keep[static_cast<std::size_t>(s.index)] = true;
  }
  return PolicyState{initial_state_words(*program_),
                     MetricHistory(std::move(horizons), std::move(keep))};
}

void CompiledPolicy::discover(double now, const Samples& samples, PolicyState& state,
                              std::vector<Edge>& edges) const {
  const PolicyTables& t = tables();
  // A caller with the wrong sizes would make compiled code read out of bounds: skip.
  if (samples.numbers.size() < static_cast<std::size_t>(t.number_slot_count) ||
      samples.strings.size() < static_cast<std::size_t>(t.string_slot_count) ||
      state.words.size() != static_cast<std::size_t>(t.state_words) ||
      (!samples.check_times.empty() &&
       samples.check_times.size() < check_clock_count(t.objects.size()))) {
    return;
  }
  state.history.record(now, samples.numbers);
  evaluate(now, samples, state, edges);
}

EventInstance CompiledPolicy::event_of(int rule) const {
  const RuleInfo& r = tables().rules[static_cast<std::size_t>(rule)];
  return EventInstance{r.event, r.args};
}

void CompiledPolicy::recover(const EventInstance& event, double now, const Samples& samples,
                             const PolicyState& state, ActionSink& sink) const {
  const PolicyTables& t = tables();
  if (samples.numbers.size() < static_cast<std::size_t>(t.number_slot_count) ||
      samples.strings.size() < static_cast<std::size_t>(t.string_slot_count)) {
    return;
  }
  RuntimeFrame frame;
  frame.numbers = samples.numbers.data();
  frame.strings = samples.strings.data();
  frame.history = &state.history;
  frame.literals = &program_->strings;
  frame.regexes = &regexes_;
  run_recovery(*program_, frame, event, now, sink);
}

}  // namespace amata::ir
