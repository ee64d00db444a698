#include "compiler/lsp/protocol.h"

#include <gtest/gtest.h>

#include <sstream>

namespace amata::lsp {
namespace {

std::string frame(const std::string& body) {
  return "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(Protocol, ReadsFramedMessagesInOrder) {
  std::istringstream in(frame(R"({"a":1})") + "Content-Type: application/vscode-jsonrpc\r\n" +
                        frame(R"({"b":2})"));
  std::string body, error;
  ASSERT_EQ(read_message(in, body, error), ReadStatus::kMessage);
  EXPECT_EQ(body, R"({"a":1})");
  ASSERT_EQ(read_message(in, body, error), ReadStatus::kMessage);
  EXPECT_EQ(body, R"({"b":2})");
  EXPECT_EQ(error, "");
  EXPECT_EQ(read_message(in, body, error), ReadStatus::kEnd);
}

TEST(Protocol, AcceptsLineFeedsAndAnyCaseHeader) {
  std::istringstream in("content-length: 2\n\n{}");
  std::string body, error;
  ASSERT_EQ(read_message(in, body, error), ReadStatus::kMessage);
  EXPECT_EQ(body, "{}");
}

TEST(Protocol, HeaderWithoutLengthIsMalformedAndTheNextMessageStillReads) {
  std::istringstream in("Content-Type: x\r\n\r\n" + frame("{}"));
  std::string body, error;
  EXPECT_EQ(read_message(in, body, error), ReadStatus::kMalformed);
  EXPECT_NE(error.find("without Content-Length"), std::string::npos);
  error.clear();
  ASSERT_EQ(read_message(in, body, error), ReadStatus::kMessage);
  EXPECT_EQ(body, "{}");
}

TEST(Protocol, BadLengthValueIsMalformed) {
  std::istringstream in("Content-Length: 12abc\r\n\r\n{}");
  std::string body, error;
  EXPECT_EQ(read_message(in, body, error), ReadStatus::kMalformed);
  EXPECT_NE(error.find("12abc"), std::string::npos);
}

TEST(Protocol, OversizedBodyIsSkipped) {
  const std::size_t n = kMaxMessageBytes + 1;
  std::string big = "Content-Length: " + std::to_string(n) + "\r\n\r\n" + std::string(n, 'x');
  std::istringstream in(big + frame("{}"));
  std::string body, error;
  EXPECT_EQ(read_message(in, body, error), ReadStatus::kMalformed);
  EXPECT_NE(error.find("limit"), std::string::npos);
  error.clear();
  ASSERT_EQ(read_message(in, body, error), ReadStatus::kMessage);
  EXPECT_EQ(body, "{}");
}

TEST(Protocol, StreamEndingInsideABodyIsTheEnd) {
  std::istringstream in("Content-Length: 10\r\n\r\n{}");
  std::string body, error;
  EXPECT_EQ(read_message(in, body, error), ReadStatus::kEnd);
}

TEST(Protocol, GarbageBeforeAHeaderIsSkippedAndReported) {
  // A body longer than its Content-Length said: the rest runs into the next header.
  std::istringstream in("{\"x\":1}" + frame("{}"));
  std::string body, error;
  ASSERT_EQ(read_message(in, body, error), ReadStatus::kMessage);
  EXPECT_EQ(body, "{}");
  EXPECT_NE(error, "");
}

TEST(Protocol, WritesFramedJsonAndReplacesInvalidUtf8) {
  std::ostringstream out;
  write_message(out, notification("m", {{"s", std::string("a\xff")}}));
  const std::string s = out.str();
  const auto sep = s.find("\r\n\r\n");
  ASSERT_NE(sep, std::string::npos);
  const std::string body = s.substr(sep + 4);
  EXPECT_EQ(s.substr(0, sep), "Content-Length: " + std::to_string(body.size()));
  const Json j = Json::parse(body);
  EXPECT_EQ(j["method"], "m");
  EXPECT_EQ(j["params"]["s"], "a\xEF\xBF\xBD");
}

TEST(Protocol, ErrorResponseCarriesTheCode) {
  const Json e = error_response(7, ErrorCode::kMethodNotFound, "no");
  EXPECT_EQ(e["id"], 7);
  EXPECT_EQ(e["error"]["code"], -32601);
  EXPECT_EQ(e["error"]["message"], "no");
}

}  // namespace
}  // namespace amata::lsp
