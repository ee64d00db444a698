#include "compiler/import/monit_values.h"

#include <cctype>
#include <functional>
#include <map>
#include <set>

namespace amata::importer {

std::optional<std::string> literal(const Tokens& t, std::size_t& i, Dim want, std::string& why) {
  if (i >= t.size() || !is_word(t[i])) {
    why = "expected a value";
    return std::nullopt;
  }
  std::string num = t[i].text;
  std::string unit;
  std::size_t k = 0;
  while (k < num.size() && (std::isdigit(static_cast<unsigned char>(num[k])) || num[k] == '.')) {
    ++k;
  }
  unit = lower(num.substr(k));
  num = num.substr(0, k);
  if (!is_number(num)) {
    why = "'" + t[i].text + "' is not a number";
    return std::nullopt;
  }
  ++i;
  if (unit.empty() && i < t.size() && is_word(t[i])) {
    static const std::set<std::string, std::less<>> kUnits = {"%",
                                                              "b",
                                                              "byte",
                                                              "bytes",
                                                              "kb",
                                                              "kilobyte",
                                                              "kilobytes",
                                                              "mb",
                                                              "megabyte",
                                                              "megabytes",
                                                              "gb",
                                                              "gigabyte",
                                                              "gigabytes",
                                                              "tb",
                                                              "kb/s",
                                                              "mb/s",
                                                              "gb/s",
                                                              "b/s",
                                                              "ms",
                                                              "millisecond",
                                                              "milliseconds",
                                                              "s",
                                                              "sec",
                                                              "second",
                                                              "seconds",
                                                              "m",
                                                              "min",
                                                              "minute",
                                                              "minutes",
                                                              "h",
                                                              "hour",
                                                              "hours",
                                                              "d",
                                                              "day",
                                                              "days",
                                                              "packets/s",
                                                              "operations/s",
                                                              "%/s"};
    if (kUnits.contains(lw(t[i]))) unit = lw(t[i++]);
  }
  const char* suffix = nullptr;
  Dim dim = Dim::kCount;
  if (unit.empty()) {
    dim = Dim::kCount;
    suffix = "";
  } else if (unit == "%") {
    dim = Dim::kPercent;
    suffix = "%";
  } else if (unit == "b" || unit == "byte" || unit == "bytes") {
    dim = Dim::kBytes;
    suffix = "B";
  } else if (unit == "kb" || unit.starts_with("kilobyte")) {
    dim = Dim::kBytes;
    suffix = "KiB";  // Monit's kilobyte is 1024 bytes
  } else if (unit == "mb" || unit.starts_with("megabyte")) {
    dim = Dim::kBytes;
    suffix = "MiB";
  } else if (unit == "gb" || unit.starts_with("gigabyte")) {
    dim = Dim::kBytes;
    suffix = "GiB";
  } else if (unit == "tb") {
    dim = Dim::kBytes;
    suffix = "TiB";
  } else if (unit == "b/s") {
    dim = Dim::kByteRate;
    suffix = "B/s";
  } else if (unit == "kb/s") {
    dim = Dim::kByteRate;
    suffix = "KiB/s";
  } else if (unit == "mb/s") {
    dim = Dim::kByteRate;
    suffix = "MiB/s";
  } else if (unit == "gb/s") {
    dim = Dim::kByteRate;
    suffix = "GiB/s";
  } else if (unit == "packets/s") {
    dim = Dim::kRate;
    suffix = "/s";
  } else if (unit == "ms" || unit.starts_with("millisecond")) {
    dim = Dim::kDuration;
    suffix = "ms";
  } else if (unit == "s" || unit == "sec" || unit.starts_with("second")) {
    dim = Dim::kDuration;
    suffix = "s";
  } else if (unit == "m" || unit == "min" || unit.starts_with("minute")) {
    dim = Dim::kDuration;
    suffix = "min";
  } else if (unit == "h" || unit.starts_with("hour")) {
    dim = Dim::kDuration;
    suffix = "h";
  } else if (unit == "d" || unit.starts_with("day")) {
    dim = Dim::kDuration;
    suffix = "d";
  } else {
    why = "the unit '" + unit + "' has no equivalent here";
    return std::nullopt;
  }
  if (dim != want) {
    static const char* kNames[] = {"a percentage", "a size",     "a byte rate",
                                   "a rate",       "a duration", "a plain number"};
    why = "amata compares this with " + std::string(kNames[static_cast<int>(want)]) +
          ", but the value is " + kNames[static_cast<int>(dim)];
    return std::nullopt;
  }
  return num + suffix;
}

std::optional<std::string> comparison(const Tokens& t, std::size_t& i) {
  if (i >= t.size()) return std::nullopt;
  const std::string w = t[i].kind == Token::Kind::kPunct ? t[i].text : lw(t[i]);
  static const std::map<std::string, std::string, std::less<>> kOps = {
      {">", ">"},    {"gt", ">"},  {"greater", ">"}, {"<", "<"},   {"lt", "<"},
      {"less", "<"}, {"=", "=="},  {"==", "=="},     {"eq", "=="}, {"equal", "=="},
      {"!=", "!="},  {"<>", "!="}, {"ne", "!="},     {">=", ">="}, {"<=", "<="}};
  if (w == "not" && i + 1 < t.size() && lw(t[i + 1]) == "equal") {
    i += 2;
    return "!=";
  }
  auto it = kOps.find(w);
  if (it == kOps.end()) return std::nullopt;
  ++i;
  return it->second;
}

}  // namespace amata::importer
