#include "compiler/lsp/server.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace amata::lsp {
namespace {

std::string frame(const std::string& body) {
  return "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

/// Framed input for one run of the server, and the messages it wrote.
class Session {
 public:
  Session& request(int id, const std::string& method, Json params = Json::object()) {
    input_ +=
        frame(Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump());
    return *this;
  }
  Session& notify(const std::string& method, Json params = Json::object()) {
    input_ += frame(Json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}}.dump());
    return *this;
  }
  Session& raw(const std::string& bytes) {
    input_ += bytes;
    return *this;
  }
  Session& initialize() { return request(0, "initialize", {{"capabilities", Json::object()}}); }
  Session& open(const std::string& uri, const std::string& text, int version = 1) {
    return notify(
        "textDocument/didOpen",
        {{"textDocument",
          {{"uri", uri}, {"languageId", "amata"}, {"version", version}, {"text", text}}}});
  }
  Session& change(const std::string& uri, const std::string& text, int version) {
    return notify("textDocument/didChange", {{"textDocument", {{"uri", uri}, {"version", version}}},
                                             {"contentChanges", {{{"text", text}}}}});
  }

  /// Runs the server over the input; returns its exit code.
  int run() {
    std::istringstream in(input_);
    std::ostringstream out;
    Server server(out);
    const int rc = server.run(in);
    std::istringstream written(out.str());
    std::string body, error;
    while (read_message(written, body, error) == ReadStatus::kMessage) {
      messages_.push_back(Json::parse(body));
    }
    EXPECT_EQ(error, "");
    return rc;
  }

  const Json& response(int id) const {
    for (const auto& m : messages_) {
      if (m.contains("id") && m["id"] == id && !m.contains("method")) return m;
    }
    static const Json none;
    ADD_FAILURE() << "no response to request " << id;
    return none;
  }
  std::vector<Json> errors_without_id() const {
    std::vector<Json> out;
    for (const auto& m : messages_) {
      if (m.contains("error") && m["id"].is_null()) out.push_back(m);
    }
    return out;
  }
  /// The last diagnostics published for `uri` (null if none were).
  Json diagnostics(const std::string& uri) const {
    Json last;
    for (const auto& m : messages_) {
      if (m.value("method", "") == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri) {
        last = m["params"]["diagnostics"];
      }
    }
    return last;
  }

 private:
  std::string input_;
  std::vector<Json> messages_;
};

TEST(Server, InitializeShutdownExit) {
  Session s;
  s.initialize().notify("initialized").request(1, "shutdown").notify("exit");
  EXPECT_EQ(s.run(), 0);
  const Json& init = s.response(0);
  EXPECT_EQ(init["result"]["capabilities"]["textDocumentSync"]["change"], 1);
  EXPECT_TRUE(init["result"]["capabilities"]["hoverProvider"].get<bool>());
  EXPECT_EQ(init["result"]["serverInfo"]["name"], "amatac");
  EXPECT_TRUE(s.response(1)["result"].is_null());
}

TEST(Server, ExitWithoutShutdownOrEndOfInputIsExitCodeOne) {
  Session a;
  a.initialize().notify("exit");
  EXPECT_EQ(a.run(), 1);
  Session b;
  b.initialize();
  EXPECT_EQ(b.run(), 1);
}

TEST(Server, MalformedMessagesGetJsonRpcErrorsAndTheServerGoesOn) {
  Session s;
  s.request(1, "textDocument/hover", Json::object())  // before initialize
      .initialize()
      .raw(frame("{not json"))
      .raw(frame("[1,2]"))
      .raw(frame(R"({"jsonrpc":"2.0","id":{"a":1},"method":"x"})"))
      .raw("Content-Type: x\r\n\r\n")
      .raw(frame(R"({"jsonrpc":"2.0","id":2,"method":5})"))
      .request(3, "no/such/method")
      .request(4, "textDocument/hover",
               {{"textDocument", {{"uri", "file:///never/seen.amata"}}},
                {"position", {{"line", 0}, {"character", 0}}}})
      .request(5, "textDocument/hover", {{"textDocument", 7}})
      .request(6, "textDocument/completion", {{"position", {{"line", -1}}}})
      .request(7, "initialize", Json::object())
      .notify("textDocument/didChange", {{"textDocument", {{"uri", "file:///nope.amata"}}},
                                         {"contentChanges", Json::array()}})
      .request(8, "shutdown")
      .request(9, "textDocument/hover", Json::object())
      .notify("exit");
  EXPECT_EQ(s.run(), 0);
  EXPECT_EQ(s.response(1)["error"]["code"], -32002);
  const auto no_id = s.errors_without_id();
  ASSERT_EQ(no_id.size(), 4u);
  EXPECT_EQ(no_id[0]["error"]["code"], -32700);  // not JSON
  EXPECT_EQ(no_id[1]["error"]["code"], -32600);  // not an object
  EXPECT_EQ(no_id[2]["error"]["code"], -32600);  // id of the wrong type
  EXPECT_EQ(no_id[3]["error"]["code"], -32700);  // a header without Content-Length
  EXPECT_EQ(s.response(2)["error"]["code"], -32600);
  EXPECT_EQ(s.response(3)["error"]["code"], -32601);
  EXPECT_EQ(s.response(4)["error"]["code"], -32602);
  EXPECT_NE(s.response(4)["error"]["message"].get<std::string>().find("unknown document"),
            std::string::npos);
  EXPECT_EQ(s.response(5)["error"]["code"], -32602);
  EXPECT_EQ(s.response(6)["error"]["code"], -32602);
  EXPECT_EQ(s.response(7)["error"]["code"], -32600);
  EXPECT_TRUE(s.response(8)["result"].is_null());
  EXPECT_EQ(s.response(9)["error"]["code"], -32600);
}

TEST(Server, DeeplyNestedAndRandomInputNeverCrashes) {
  Session s;
  s.initialize();
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  s.raw(frame(R"({"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":)" + deep + "}"));
  s.raw(frame(std::string(100000, '[')));
  // Fragments of real messages, shuffled: whatever they make, each gets an answer or none.
  const std::vector<std::string> parts = {
      R"({"jsonrpc":"2.0",)",
      R"("id":3,)",
      R"("method":"textDocument/completion",)",
      R"("params":{"textDocument":{"uri":"file:///mem/r.amata"},)",
      R"("position":{"line":0,"character":4}})",
      "}",
      R"("method":"textDocument/didOpen",)",
      R"("params":{"textDocument":{"uri":"file:///mem/r.amata","text":"service x {
  "}})",
      R"("contentChanges":[{"range":{"start":{"line":9,"character":99}},"text":"é"}])",
      "null",
      R"("\ud800")",
      "-1",
      "1e999",
      "{",
      "[",
      ":",
      ","};
  std::uint32_t seed = 12345;
  for (int i = 0; i < 400; ++i) {
    std::string body;
    const int n = 1 + static_cast<int>((seed = seed * 1103515245 + 12345) >> 16) % 6;
    for (int j = 0; j < n; ++j)
      body += parts[((seed = seed * 1103515245 + 12345) >> 16) % parts.size()];
    s.raw(frame(body));
  }
  s.request(99, "shutdown").notify("exit");
  EXPECT_EQ(s.run(), 0);
  EXPECT_EQ(s.response(1)["error"]["code"], -32602);
  EXPECT_TRUE(s.response(99)["result"].is_null());
}

TEST(Server, PublishesDiagnosticsWithCodesRelatedInformationAndUtf16Columns) {
  Session s;
  // "é" in the comment is two bytes but one UTF-16 unit; the error after it is on line 1.
  const std::string text =
      "service web { start \"/bin/web\" }\n"
      "service web { start \"/bin/x\" } # é\n"
      "discover d when \"é\" == \"x\" and web.cpux > 9 raise E(web)\n";
  s.initialize().open("file:///mem/p.amata", text).request(1, "shutdown").notify("exit");
  EXPECT_EQ(s.run(), 0);
  const Json d = s.diagnostics("file:///mem/p.amata");
  ASSERT_TRUE(d.is_array());
  ASSERT_GE(d.size(), 2u) << d.dump(1);
  EXPECT_EQ(d[0]["code"], "E0201");
  EXPECT_EQ(d[0]["severity"], 1);
  EXPECT_EQ(d[0]["source"], "amatac");
  EXPECT_EQ(d[0]["range"]["start"], (Json{{"line", 1}, {"character", 8}}));
  EXPECT_EQ(d[0]["relatedInformation"][0]["location"]["range"]["start"]["line"], 0);
  EXPECT_EQ(d[0]["relatedInformation"][0]["message"], "previous definition is here");
  const Json& cpux = d[1];
  EXPECT_EQ(cpux["code"], "E0203");
  const std::string line2 = "discover d when \"é\" == \"x\" and web.";
  EXPECT_EQ(cpux["range"]["start"],
            (Json{{"line", 2}, {"character", line2.size() - 1}}));  // é: 2 bytes, 1 unit
}

TEST(Server, DiagnosticsOfIncludedFilesAndOpenBuffersOverridingTheDisk) {
  char tmpl[] = "/tmp/amata-lsp-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir = tmpl;
  std::ofstream(dir / "objects.amata") << "service web { start \"/bin/web\"; evry 1s }\n";
  const std::string root = "file://" + (dir / "root.amata").string();
  const std::string inc = "file://" + (dir / "objects.amata").string();
  const std::string root_text =
      "include \"objects.amata\"\n"
      "discover d when not web.alive raise E(web)\nrecover E(s) { restart s }\n";
  Session s;
  s.initialize()
      .open(root, root_text)
      .request(1, "textDocument/hover",
               {{"textDocument", {{"uri", inc}}}, {"position", {{"line", 0}, {"character", 9}}}});
  // The editor opens the included file and fixes it without saving: the disk is not read.
  s.open(inc, "service web { start \"/bin/web\"; every 1s }\n").request(2, "shutdown");
  s.notify("exit");
  EXPECT_EQ(s.run(), 0);
  std::filesystem::remove_all(dir);

  // The included file's diagnostic went to its own URI, with where it was included from.
  // (Its last publication is the clearing one; the response to hover came in between.)
  EXPECT_TRUE(s.diagnostics(inc).empty());
  EXPECT_TRUE(s.diagnostics(root).empty());
  EXPECT_NE(s.response(1)["result"]["contents"]["value"].get<std::string>().find("service web"),
            std::string::npos);
}

TEST(Server, IncludedFileDiagnosticsArePublishedToTheIncludedUri) {
  char tmpl[] = "/tmp/amata-lsp-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir = tmpl;
  std::ofstream(dir / "objects.amata") << "service web { start \"/bin/web\"; evry 1s }\n";
  const std::string root = "file://" + (dir / "root.amata").string();
  const std::string inc = "file://" + (dir / "objects.amata").string();
  Session s;
  s.initialize().open(root, "include \"objects.amata\"\n").request(1, "shutdown").notify("exit");
  EXPECT_EQ(s.run(), 0);
  std::filesystem::remove_all(dir);
  const Json d = s.diagnostics(inc);
  ASSERT_EQ(d.size(), 1u) << d;
  EXPECT_EQ(d[0]["code"], "E0205");
  EXPECT_EQ(d[0]["range"]["start"]["character"], 32);
  const Json& related = d[0]["relatedInformation"];
  ASSERT_FALSE(related.empty());
  EXPECT_EQ(related.back()["message"], "included from here");
  EXPECT_EQ(related.back()["location"]["uri"], root);
  EXPECT_TRUE(s.diagnostics(root).is_null());  // nothing wrong in the root: nothing sent
}

TEST(Server, AnEditThatFixesTheErrorClearsItsDiagnostics) {
  std::ostringstream out;
  Server server(out);
  const auto msg = [](const Json& j) { return j.dump(); };
  server.handle(
      msg({{"jsonrpc", "2.0"}, {"id", 0}, {"method", "initialize"}, {"params", Json::object()}}));
  server.handle(
      msg({{"jsonrpc", "2.0"},
           {"method", "textDocument/didOpen"},
           {"params",
            {{"textDocument",
              {{"uri", "file:///mem/a.amata"}, {"version", 1}, {"text", "servce web {}\n"}}}}}}));
  const std::string after_open = out.str();
  EXPECT_NE(after_open.find("E0200"), std::string::npos);  // unknown kind
  server.handle(msg({{"jsonrpc", "2.0"},
                     {"method", "textDocument/didChange"},
                     {"params",
                      {{"textDocument", {{"uri", "file:///mem/a.amata"}, {"version", 2}}},
                       {"contentChanges",
                        {{{"range",
                           {{"start", {{"line", 0}, {"character", 4}}},
                            {"end", {{"line", 0}, {"character", 4}}}}},
                          {"text", "i"}}}}}}}));
  const std::string after_change = out.str().substr(after_open.size());
  std::istringstream in(after_change);
  std::string body, error;
  ASSERT_EQ(read_message(in, body, error), ReadStatus::kMessage);
  const Json j = Json::parse(body);
  EXPECT_EQ(j["method"], "textDocument/publishDiagnostics");
  EXPECT_EQ(j["params"]["version"], 2);
  // `service web {}` has no start: E0207, the only one left.
  ASSERT_EQ(j["params"]["diagnostics"].size(), 1u) << j.dump();
  EXPECT_EQ(j["params"]["diagnostics"][0]["code"], "E0207");
  server.handle(msg({{"jsonrpc", "2.0"},
                     {"method", "textDocument/didClose"},
                     {"params", {{"textDocument", {{"uri", "file:///mem/a.amata"}}}}}}));
  std::istringstream closed(out.str().substr(after_open.size() + after_change.size()));
  ASSERT_EQ(read_message(closed, body, error), ReadStatus::kMessage);
  EXPECT_TRUE(Json::parse(body)["params"]["diagnostics"].empty());
}

TEST(Server, RequestsAnswerFromTheOpenDocument) {
  Session s;
  const std::string text =
      "service web { start \"/bin/web\" }\ndiscover d when not web.alive raise E(web)\n"
      "recover E(s) { restart s }\n";
  s.initialize()
      .open("file:///mem/p.amata", text)
      .request(1, "textDocument/definition",
               {{"textDocument", {{"uri", "file:///mem/p.amata"}}},
                {"position", {{"line", 1}, {"character", 21}}}})
      .request(2, "textDocument/documentSymbol",
               {{"textDocument", {{"uri", "file:///mem/p.amata"}}}})
      .request(3, "textDocument/rename",
               {{"textDocument", {{"uri", "file:///mem/p.amata"}}},
                {"position", {{"line", 1}, {"character", 21}}},
                {"newName", "not"}})
      .request(4, "textDocument/references",
               {{"textDocument", {{"uri", "file:///mem/p.amata"}}},
                {"position", {{"line", 0}, {"character", 9}}},
                {"context", {{"includeDeclaration", true}}}})
      .request(5, "textDocument/completion",
               {{"textDocument", {{"uri", "file:///mem/p.amata"}}},
                {"position", {{"line", 1}, {"character", 24}}}})
      .request(6, "textDocument/formatting",
               {{"textDocument", {{"uri", "file:///mem/p.amata"}}},
                {"options", {{"tabSize", 2}, {"insertSpaces", true}}}})
      .open("file:///mem/broken.amata", "let x = \n")
      .request(7, "textDocument/formatting",
               {{"textDocument", {{"uri", "file:///mem/broken.amata"}}},
                {"options", {{"tabSize", 2}, {"insertSpaces", true}}}})
      .request(9, "shutdown")
      .notify("exit");
  EXPECT_EQ(s.run(), 0);
  EXPECT_TRUE(s.response(6)["result"].is_array()) << s.response(6);
  EXPECT_EQ(s.response(7)["error"]["code"], -32803);
  EXPECT_EQ(s.response(1)["result"]["range"]["start"], (Json{{"line", 0}, {"character", 8}}));
  EXPECT_EQ(s.response(2)["result"].size(), 3u);
  EXPECT_EQ(s.response(3)["error"]["code"], -32803);
  EXPECT_EQ(s.response(4)["result"].size(), 3u);
  bool alive = false;
  for (const auto& item : s.response(5)["result"]["items"])
    alive = alive || item["label"] == "alive";
  EXPECT_TRUE(alive);
}

}  // namespace
}  // namespace amata::lsp
