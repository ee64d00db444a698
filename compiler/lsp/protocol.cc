#include "compiler/lsp/protocol.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string_view>

namespace amata::lsp {
namespace {

constexpr std::string_view kLengthHeader = "content-length:";
/// A header line longer than this is garbage, not a header.
constexpr std::size_t kMaxHeaderLine = 4096;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

/// One header line without its line break; false at the end of the stream. Stops reading
/// at kMaxHeaderLine bytes, so a stream without line breaks cannot grow it without bound.
bool read_line(std::istream& in, std::string& line) {
  line.clear();
  int c;
  while ((c = in.get()) != std::char_traits<char>::eof()) {
    if (c == '\n') return true;
    if (line.size() < kMaxHeaderLine) line.push_back(static_cast<char>(c));
  }
  return !line.empty();
}

/// Discards `n` bytes of an oversized body; false when the stream ends first.
bool skip(std::istream& in, std::size_t n) {
  char buffer[65536];
  while (n > 0) {
    const auto chunk = static_cast<std::streamsize>(std::min(n, sizeof buffer));
    in.read(buffer, chunk);
    if (in.gcount() != chunk) return false;
    n -= static_cast<std::size_t>(chunk);
  }
  return true;
}

}  // namespace

ReadStatus read_message(std::istream& in, std::string& body, std::string& error) {
  std::string line;
  std::optional<std::size_t> length;
  bool garbage = false;
  bool any = false;
  while (true) {
    if (!read_line(in, line)) {
      if (any) {
        error = "the stream ended inside a message header";
        return ReadStatus::kMalformed;
      }
      return ReadStatus::kEnd;
    }
    std::string_view text = trim(line);
    if (text.empty()) {
      if (!any) continue;  // blank lines between messages
      break;
    }
    any = true;
    const std::string low = lower(text);
    // After garbage (a body the previous frame's length did not cover), a header may follow
    // on the same line: resynchronise at it.
    const std::size_t at = low.find(kLengthHeader);
    if (at == std::string::npos) {
      if (text.find(':') == std::string_view::npos || text.size() >= kMaxHeaderLine) garbage = true;
      continue;  // Content-Type and other headers are ignored
    }
    if (at != 0) garbage = true;
    std::string_view value = trim(text.substr(at + kLengthHeader.size()));
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size()) {
      error = "bad Content-Length header: '" + std::string(value) + "'";
      return ReadStatus::kMalformed;
    }
    length = n;
  }
  if (!length) {
    error = "a message header without Content-Length";
    return ReadStatus::kMalformed;
  }
  if (*length > kMaxMessageBytes) {
    if (!skip(in, *length)) return ReadStatus::kEnd;
    error = "a message of " + std::to_string(*length) + " bytes (the limit is " +
            std::to_string(kMaxMessageBytes) + ")";
    return ReadStatus::kMalformed;
  }
  body.resize(*length);
  in.read(body.data(), static_cast<std::streamsize>(*length));
  if (static_cast<std::size_t>(in.gcount()) != *length) return ReadStatus::kEnd;
  if (garbage) {
    // The message itself is intact; the bytes before its header were not a message.
    error = "bytes outside any message were skipped";
  }
  return ReadStatus::kMessage;
}

void write_message(std::ostream& out, const Json& message) {
  const std::string body = message.dump(-1, ' ', false, Json::error_handler_t::replace);
  out << "Content-Length: " << body.size() << "\r\n\r\n" << body;
  out.flush();
}

Json response(const Json& id, Json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

Json error_response(const Json& id, ErrorCode code, const std::string& message) {
  return {{"jsonrpc", "2.0"},
          {"id", id},
          {"error", {{"code", static_cast<int>(code)}, {"message", message}}}};
}

Json notification(const std::string& method, Json params) {
  return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

}  // namespace amata::lsp
