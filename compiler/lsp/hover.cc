#include "compiler/lsp/hover.h"

#include "compiler/check/context.h"
#include "compiler/check/settings.h"
#include "compiler/lsp/convert.h"
#include "compiler/lsp/vocabulary.h"

namespace amata::lsp {
namespace {

std::string code(std::string_view text) {
  return "```amata\n" + std::string(text) + "\n```\n";
}

std::string kind_of(const Symbol& s) {
  return s.object_kind ? std::string(catalog::kind_name(*s.object_kind)) : "?";
}

/// `90 %`, `300 s`, `up`: a folded constant in base units.
std::string folded(const check::TypedExpr& v) {
  using Op = check::TypedExpr::Op;
  switch (v.op) {
    case Op::kNumber: {
      std::string unit(catalog::base_unit_suffix(v.type.dimension));
      return check::format_number(v.number) + (unit.empty() ? "" : " " + unit);
    }
    case Op::kBool:
      return v.boolean ? "true" : "false";
    case Op::kString:
      return "\"" + v.string + "\"";
    case Op::kEnum: {
      auto members = catalog::enum_members(v.type.enum_type);
      if (v.enum_ordinal >= 0 && static_cast<std::size_t>(v.enum_ordinal) < members.size()) {
        return std::string(members[v.enum_ordinal]);
      }
      return std::to_string(v.enum_ordinal);
    }
    default:
      return "";
  }
}

std::string event_signature(const Symbol& s) {
  std::string text = "event " + s.name + "(";
  for (std::size_t i = 0; i < s.params.size(); ++i) {
    if (i) text += ", ";
    text += s.params[i].name + ": " +
            (s.params[i].kind ? std::string(catalog::kind_name(*s.params[i].kind)) : "?");
  }
  text += ")";
  if (s.notify_only) text += " notify_only";
  return text;
}

std::string symbol_text(const Analysis& a, const Symbol& s) {
  const auto& sources = a.sources();
  switch (s.kind) {
    case SymbolKind::kObject:
    case SymbolKind::kCluster: {
      std::string head =
          (s.kind == SymbolKind::kCluster ? std::string("cluster") : kind_of(s)) + " " + s.name;
      std::string text = code(head);
      if (s.object_kind)
        text += "\n" + std::string(catalog::kind_description(*s.object_kind)) + "\n";
      if (s.object && !s.object->settings.empty()) {
        std::string settings;
        for (const auto& st : s.object->settings) {
          settings += (settings.empty() ? "" : "\n") + std::string(sources.text(st.range));
        }
        text += "\nSettings:\n" + code(settings);
      } else if (s.object) {
        text += "\nNo settings (the defaults).\n";
      }
      return text;
    }
    case SymbolKind::kConstant: {
      std::string text = code(sources.text(s.decl_range));
      if (a.policy()) {
        for (const auto& c : a.policy()->constants) {
          if (c.name == s.name) {
            text +=
                "\nValue: `" + folded(c.value) + "` (" + catalog::type_name(c.value.type) + ")\n";
          }
        }
      }
      return text;
    }
    case SymbolKind::kEvent: {
      std::string text = code(event_signature(s));
      if (!s.declared) text += "\nNot declared: its parameters come from its first raise.\n";
      std::string raisers;
      for (const auto& r : a.index().symbols()) {
        if (r.kind == SymbolKind::kRule && r.raised_by == s.name) {
          raisers += (raisers.empty() ? "" : ", ") + ("`" + r.name + "`");
        }
      }
      if (!raisers.empty()) text += "\nRaised by " + raisers + ".\n";
      return text;
    }
    case SymbolKind::kRule: {
      std::string head = "discover " + s.name;
      if (s.rule && !s.rule->params.empty()) {
        head += "(";
        for (std::size_t i = 0; i < s.rule->params.size(); ++i) {
          if (i) head += ", ";
          head += s.rule->params[i].name.text + ": " + s.rule->params[i].kind.text;
        }
        head += ")";
      }
      return code(head) + "\nRaises `" + s.raised_by + "`.\n";
    }
    case SymbolKind::kParameter:
      return code(s.name + ": " + kind_of(s)) + "\nA parameter: bound to each " + kind_of(s) +
             " in turn.\n";
  }
  return "";
}

std::string mention_text(const Mention& m) {
  switch (m.what) {
    case Mention::What::kAttribute: {
      const std::string kind(catalog::kind_name(m.kind));
      if (const catalog::Attribute* attr = catalog::find_attribute(m.kind, m.text)) {
        std::string text = code("(" + kind + ") " + m.text + ": " + catalog::type_name(attr->type));
        text += "\n" + std::string(attr->description) + "\n";
        if (attr->type.kind == catalog::ValueKind::kNumber) {
          const std::string_view unit = catalog::base_unit_suffix(attr->type.dimension);
          text += "\nUnit: " + (unit.empty() ? std::string("none (a plain count)")
                                             : "`" + std::string(unit) + "`");
          text += attr->event_driven ? "; updated as it happens (event-driven).\n"
                                     : "; sampled by the probe.\n";
        } else if (attr->type.kind == catalog::ValueKind::kEnum) {
          std::string members;
          for (auto mem : catalog::enum_members(attr->type.enum_type)) {
            members += (members.empty() ? "`" : ", `") + std::string(mem) + "`";
          }
          text += "\nMembers: " + members + ".\n";
        }
        return text;
      }
      if (catalog::has_perfdata_attributes(m.kind) &&
          m.text.rfind(catalog::kPerfdataPrefix, 0) == 0) {
        return code("(" + kind + ") " + m.text) +
               "\nA perfdata value of the check's plugin; its unit comes from the plugin's "
               "output.\n";
      }
      return "";
    }
    case Mention::What::kKind:
      return code(std::string(catalog::kind_name(m.kind))) + "\n" +
             std::string(catalog::kind_description(m.kind)) + " (" +
             std::to_string(catalog::attributes(m.kind).size()) + " attributes)\n";
    case Mention::What::kSetting: {
      const check::SettingInfo* info = nullptr;
      if (m.cluster_setting) {
        for (const auto& s : check::cluster_settings()) {
          if (s.name == m.text) info = &s;
        }
      } else {
        info = check::find_object_setting(m.text);
      }
      if (!info) return "";
      std::string text = code(info->usage);
      if (m.cluster_setting) return text + "\nA setting of the cluster.\n";
      std::string kinds;
      for (auto k : info->kinds) {
        kinds += (kinds.empty() ? "" : ", ") + std::string(catalog::kind_name(k));
      }
      return text + "\nA setting of: " + kinds + ".\n";
    }
    case Mention::What::kFunction:
      if (const Word* w = find_word(functions(), m.text)) {
        return code(w->usage) + "\n" + std::string(w->doc) + ".\n";
      }
      return "";
  }
  return "";
}

Json markdown(const Analysis& a, std::string text, const ast::SourceRange& range) {
  if (text.empty()) return nullptr;
  return {{"contents", {{"kind", "markdown"}, {"value", std::move(text)}}},
          {"range", lsp_range(a, range)}};
}

}  // namespace

Json hover(const Analysis& a, ast::FileId file, std::uint32_t offset) {
  const Index& index = a.index();
  if (const Occurrence* o = index.occurrence_at(file, offset)) {
    return markdown(a, symbol_text(a, index.symbol(o->symbol)), o->range);
  }
  if (const Mention* m = index.mention_at(file, offset)) {
    return markdown(a, mention_text(*m), m->range);
  }
  return nullptr;
}

}  // namespace amata::lsp
