// `amatac lsp`: a Language Server for .amata policies. One loop reads framed JSON-RPC
// messages, keeps the editor's open documents, re-checks the policies an edit touches and
// publishes their diagnostics, and answers hover, completion, navigation, rename, code
// action and formatting requests. It reads an istream and writes an ostream, so tests drive
// it in-process; a malformed message or a request about an unknown document is answered
// with a JSON-RPC error, never a crash.
#pragma once

#include <istream>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>

#include "compiler/lsp/analysis.h"
#include "compiler/lsp/protocol.h"

namespace amata::lsp {

class Server {
 public:
  explicit Server(std::ostream& out) : out_(out) {}

  /// Handles messages until `exit` or the end of `in`. Returns the process exit code: 0 after
  /// `shutdown` then `exit`, 1 otherwise (as the protocol asks). While more input is already
  /// waiting (`in.rdbuf()->in_avail() > 0`), re-checking is deferred, so a burst of edits
  /// costs one check.
  int run(std::istream& in);

  /// Handles one message body; re-checks and publishes at once unless `more_pending`.
  void handle(const std::string& body, bool more_pending = false);
  /// Re-checks the policies edits have touched and publishes what changed.
  void flush();

  bool exited() const { return exited_; }
  bool shut_down() const { return shutdown_; }

 private:
  struct Document {
    std::string uri;
    std::string text;
    std::int64_t version = 0;
  };

  void dispatch(const Json& msg);
  Json request(const std::string& method, const Json& params);
  void notify(const std::string& method, const Json& params);
  void send(const Json& msg) { write_message(out_, msg); }

  Json initialize(const Json& params);
  void did_open(const Json& params);
  void did_change(const Json& params);
  void did_close(const Json& params);
  void publish();

  /// The analysis that answers for document `uri` and the file's id in it; throws
  /// RequestError(kInvalidParams) for a document the server never saw.
  std::pair<const Analysis*, ast::FileId> locate(const Json& params) const;
  std::pair<const Analysis*, ast::FileId> locate_uri(const std::string& uri) const;
  std::uint32_t offset_of(const Analysis& a, ast::FileId id, const Json& position) const;

  std::ostream& out_;
  bool initialized_ = false;
  bool shutdown_ = false;
  bool exited_ = false;
  std::map<std::string, Document> open_;                           // by path
  std::map<std::string, std::unique_ptr<Analysis>> analyses_;      // one per open document
  std::set<std::string> dirty_;                                    // paths edited since flush
  std::map<std::string, const Analysis*> provider_;                // path -> analysis answering
  std::map<std::string, std::pair<std::string, Json>> published_;  // path -> (uri, sent)
};

}  // namespace amata::lsp
