#include "engine/remote/remote_wire.h"

#include <limits>
#include <type_traits>
#include <utility>

namespace amata::remote {
namespace {

using nlohmann::json;

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

/// An unsigned integer field no larger than `max`.
Result<std::uint64_t> count(const json& object, const char* key,
                            std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number_unsigned()) {
    return Error{std::string("\"") + key + "\" is not an unsigned integer"};
  }
  const auto value = it->get<std::uint64_t>();
  if (value > max) return Error{std::string("\"") + key + "\" is out of range"};
  return value;
}

/// An unsigned integer field that may be absent (an amatad of an older version sends none).
Result<std::optional<std::uint64_t>> optional_count(const json& object, const char* key) {
  if (!object.contains(key)) return std::optional<std::uint64_t>{};
  auto value = count(object, key);
  if (!value) return value.error();
  return std::optional<std::uint64_t>{*value};
}

Result<std::string> text(const json& object, const char* key, std::size_t max_bytes) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    return Error{std::string("\"") + key + "\" is not a string"};
  }
  auto value = it->get<std::string>();
  if (value.size() > max_bytes) return Error{std::string("\"") + key + "\" is too long"};
  return value;
}

/// A list of at most kMaxNames distinct service names, each 1 to kMaxNameBytes bytes.
Result<std::set<std::string>> names(const json& object, const char* key) {
  const auto it = object.find(key);
  const std::string quoted = std::string("\"") + key + "\"";
  if (it == object.end() || !it->is_array()) return Error{quoted + " is not an array"};
  if (it->size() > kMaxNames) {
    return Error{quoted + " has over " + std::to_string(kMaxNames) + " names"};
  }
  std::set<std::string> out;
  for (const json& name : *it) {
    if (!name.is_string()) return Error{quoted + " holds a name that is not a string"};
    const auto& value = name.get_ref<const std::string&>();
    if (value.empty() || value.size() > kMaxNameBytes) {
      return Error{quoted + " holds a name of 0 or over " + std::to_string(kMaxNameBytes) +
                   " bytes"};
    }
    if (!out.insert(value).second) return Error{quoted + " holds a name twice"};
  }
  return out;
}

bool hex(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<LinkMessage> decode_object(const json& m) {
  const auto kind = text(m, "t", 16);
  if (!kind) return kind.error();
  if (*kind == "hb") {
    Heartbeat hb;
    auto at = count(m, "at");
    if (!at) return at.error();
    hb.at = *at;
    if (m.contains("rtt_us")) {
      auto rtt = count(m, "rtt_us");
      if (!rtt) return rtt.error();
      hb.rtt_us = *rtt;
    }
    return LinkMessage{hb};
  }
  if (*kind == "ev") {
    auto seq = count(m, "seq");
    if (!seq) return seq.error();
    if (*seq == 0) return Error{"\"seq\" starts at 1"};
    const auto body = m.find("body");
    if (body == m.end() || !body->is_object()) return Error{"\"body\" is not an object"};
    return LinkMessage{RemoteEvent{*seq, *body}};
  }
  if (*kind == "state") {
    ServiceReport report;
    auto seq = count(m, "seq");
    if (!seq) return seq.error();
    if (*seq == 0) return Error{"\"seq\" starts at 1"};
    report.seq = *seq;
    for (auto [key, into] :
         {std::pair{"running", &report.running}, std::pair{"gave_up", &report.gave_up},
          std::pair{"eligible", &report.eligible}}) {
      auto list = names(m, key);
      if (!list) return list.error();
      *into = std::move(*list);
    }
    auto placed = optional_count(m, "placed");
    if (!placed) return placed.error();
    report.placed = placed->value_or(0);
    return LinkMessage{std::move(report)};
  }
  if (*kind == "place") {
    auto run = names(m, "run");
    if (!run) return run.error();
    auto lease = count(m, "lease_ms", 3'600'000);
    if (!lease) return lease.error();
    if (*lease == 0) return Error{"a zero lease"};
    auto at = optional_count(m, "at");
    if (!at) return at.error();
    auto n = optional_count(m, "n");
    if (!n) return n.error();
    return LinkMessage{
        Placement{std::move(*run), static_cast<std::uint32_t>(*lease), *at, n->value_or(0)}};
  }
  if (*kind == "ack") {
    auto seq = count(m, "seq");
    if (!seq) return seq.error();
    return LinkMessage{Ack{*seq}};
  }
  if (*kind == "hello") {
    auto epoch = text(m, "epoch", 32);
    if (!epoch) return epoch.error();
    if (!hex(*epoch)) return Error{"\"epoch\" is not 1 to 32 lowercase hex digits"};
    auto dropped = count(m, "dropped");
    if (!dropped) return dropped.error();
    return LinkMessage{Hello{*epoch, *dropped}};
  }
  if (*kind == "welcome") {
    Welcome w;
    auto node = text(m, "node", 64);
    auto beat = count(m, "heartbeat_ms", 3'600'000);
    auto timeout = count(m, "timeout_ms", 3'600'000);
    auto acked = count(m, "acked");
    if (!node) return node.error();
    if (!beat) return beat.error();
    if (!timeout) return timeout.error();
    if (!acked) return acked.error();
    if (*beat == 0 || *timeout == 0) return Error{"a zero heartbeat or timeout"};
    return LinkMessage{Welcome{*node, static_cast<std::uint32_t>(*beat),
                               static_cast<std::uint32_t>(*timeout), *acked}};
  }
  if (*kind == "bye") {
    auto why = text(m, "why", 1024);
    if (!why) return why.error();
    return LinkMessage{Bye{*why}};
  }
  return Error{"unknown message \"" + *kind + "\""};
}

/// Whether no array or object in `line` nests deeper than `max`: a 64 KiB line of brackets
/// parses fine but would recurse 32,000 frames deep wherever the body is dumped or walked.
bool nesting_within(std::string_view line, int max) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

}  // namespace

std::string encode(const LinkMessage& message) {
  const json object = std::visit(
      Overloaded{
          [](const Hello& m) {
            return json{{"t", "hello"}, {"epoch", m.epoch}, {"dropped", m.dropped}};
          },
          [](const Heartbeat& m) {
            json o{{"t", "hb"}, {"at", m.at}};
            if (m.rtt_us) o["rtt_us"] = *m.rtt_us;
            return o;
          },
          [](const RemoteEvent& m) {
            return json{{"t", "ev"}, {"seq", m.seq}, {"body", m.body}};
          },
          [](const ServiceReport& m) {
            return json{{"t", "state"},         {"seq", m.seq},           {"running", m.running},
                        {"gave_up", m.gave_up}, {"eligible", m.eligible}, {"placed", m.placed}};
          },
          [](const Welcome& m) {
            return json{{"t", "welcome"},
                        {"node", m.node},
                        {"heartbeat_ms", m.heartbeat_ms},
                        {"timeout_ms", m.timeout_ms},
                        {"acked", m.acked}};
          },
          [](const Ack& m) {
            return json{{"t", "ack"}, {"seq", m.seq}};
          },
          [](const Bye& m) {
            return json{{"t", "bye"}, {"why", m.why}};
          },
          [](const Placement& m) {
            json j{{"t", "place"}, {"run", m.run}, {"lease_ms", m.lease_ms}};
            if (m.at) j["at"] = *m.at;
            if (m.n != 0) j["n"] = m.n;
            return j;
          },
      },
      message);
  // Replacement, not an exception, for invalid UTF-8 in a body: a bad byte in one event
  // must not end the link.
  return object.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<LinkMessage> decode(std::string_view line) {
  if (!nesting_within(line, 32)) return Error{"nested deeper than 32 levels"};
  json m = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (m.is_discarded()) return Error{"not JSON"};
  if (!m.is_object()) return Error{"not a JSON object"};
  return decode_object(m);
}

FrameReader::Next FrameReader::next(std::string& line) {
  const std::size_t newline = buffer_.find('\n', start_ + scanned_);
  if (newline == std::string::npos) {
    scanned_ = buffer_.size() - start_;
    return scanned_ > kMaxFrameBytes ? Next::kTooLong : Next::kNeedMore;
  }
  if (newline - start_ > kMaxFrameBytes) return Next::kTooLong;
  line.assign(buffer_, start_, newline - start_);
  start_ = newline + 1;
  scanned_ = 0;
  // Compact once the consumed part dominates, so a long-lived link's buffer stays small.
  if (start_ > 4096 && start_ * 2 > buffer_.size()) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  return Next::kLine;
}

}  // namespace amata::remote
