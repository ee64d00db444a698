#include "compiler/lsp/server.h"

#include <exception>
#include <vector>

#include "base/version.h"
#include "compiler/lsp/completion.h"
#include "compiler/lsp/convert.h"
#include "compiler/lsp/formatting.h"
#include "compiler/lsp/hover.h"
#include "compiler/lsp/navigation.h"

namespace amata::lsp {
namespace {

/// A request that cannot be answered: becomes the JSON-RPC error of its response. Thrown and
/// caught inside Server::dispatch only.
struct RequestError {
  ErrorCode code;
  std::string message;
};

const Json& field(const Json& object, const char* key, Json::value_t type) {
  if (!object.is_object())
    throw RequestError{ErrorCode::kInvalidParams, "params must be an object"};
  auto it = object.find(key);
  if (it == object.end()) {
    throw RequestError{ErrorCode::kInvalidParams, std::string("missing '") + key + "'"};
  }
  const bool number_ok = type == Json::value_t::number_unsigned && it->is_number_integer() &&
                         it->get<std::int64_t>() >= 0;
  if (it->type() != type && !number_ok) {
    throw RequestError{ErrorCode::kInvalidParams, std::string("'") + key + "' has the wrong type"};
  }
  return *it;
}

const std::string& string_field(const Json& object, const char* key) {
  return field(object, key, Json::value_t::string).get_ref<const std::string&>();
}

std::string path_of(const std::string& uri) {
  return normal_path(uri_to_path(uri));
}

}  // namespace

int Server::run(std::istream& in) {
  std::string body, error;
  while (!exited_) {
    const ReadStatus status = read_message(in, body, error);
    if (status == ReadStatus::kEnd) break;
    if (status == ReadStatus::kMalformed || !error.empty()) {
      send(error_response(nullptr, ErrorCode::kParseError, error));
      error.clear();
      if (status == ReadStatus::kMalformed) continue;
    }
    handle(body, in.rdbuf()->in_avail() > 0);
  }
  return shutdown_ && exited_ ? 0 : 1;
}

void Server::handle(const std::string& body, bool more_pending) {
  Json msg = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (msg.is_discarded()) {
    send(error_response(nullptr, ErrorCode::kParseError, "the message is not valid JSON"));
  } else {
    dispatch(msg);
  }
  if (!more_pending) flush();
}

void Server::dispatch(const Json& msg) {
  if (!msg.is_object()) {
    send(error_response(nullptr, ErrorCode::kInvalidRequest, "a message must be a JSON object"));
    return;
  }
  const auto id_it = msg.find("id");
  const auto method_it = msg.find("method");
  const bool has_id = id_it != msg.end();
  if (has_id && !id_it->is_string() && !id_it->is_number_integer() && !id_it->is_null()) {
    send(error_response(nullptr, ErrorCode::kInvalidRequest, "'id' must be a number or a string"));
    return;
  }
  const Json id = has_id ? *id_it : Json();
  if (method_it == msg.end()) {
    if (has_id && (msg.contains("result") || msg.contains("error"))) return;  // a response
    send(error_response(id, ErrorCode::kInvalidRequest, "a request needs a 'method'"));
    return;
  }
  if (!method_it->is_string()) {
    send(error_response(id, ErrorCode::kInvalidRequest, "'method' must be a string"));
    return;
  }
  const std::string& method = method_it->get_ref<const std::string&>();
  // A reference, never a copy: copying a deeply nested value recurses.
  static const Json kNoParams = Json::object();
  const auto params_it = msg.find("params");
  const Json& params = params_it == msg.end() ? kNoParams : *params_it;
  try {
    if (!has_id) {
      notify(method, params);
      return;
    }
    flush();  // a request sees every edit before it
    send(response(id, request(method, params)));
  } catch (const RequestError& e) {
    if (has_id) {
      send(error_response(id, e.code, e.message));
    } else {
      send(notification("window/logMessage",
                        {{"type", 1}, {"message", "amatac lsp: " + method + ": " + e.message}}));
    }
  } catch (const Json::exception& e) {
    // A field of the wrong shape deep inside params.
    if (has_id) send(error_response(id, ErrorCode::kInvalidParams, e.what()));
  } catch (const std::exception& e) {
    if (has_id) send(error_response(id, ErrorCode::kInternalError, e.what()));
  }
}

Json Server::request(const std::string& method, const Json& params) {
  if (method == "initialize") return initialize(params);
  if (!initialized_) {
    throw RequestError{ErrorCode::kServerNotInitialized, "the server is not initialized"};
  }
  if (shutdown_) throw RequestError{ErrorCode::kInvalidRequest, "the server is shutting down"};
  if (method == "shutdown") {
    shutdown_ = true;
    return nullptr;
  }
  if (method == "textDocument/hover") {
    auto [a, id] = locate(params);
    return hover(*a, id, offset_of(*a, id, field(params, "position", Json::value_t::object)));
  }
  if (method == "textDocument/completion") {
    auto [a, id] = locate(params);
    return complete(*a, id, offset_of(*a, id, field(params, "position", Json::value_t::object)));
  }
  if (method == "textDocument/definition") {
    auto [a, id] = locate(params);
    return definition(*a, id, offset_of(*a, id, field(params, "position", Json::value_t::object)));
  }
  if (method == "textDocument/references") {
    auto [a, id] = locate(params);
    bool declaration = true;
    if (auto c = params.find("context"); c != params.end() && c->is_object()) {
      declaration = c->value("includeDeclaration", true);
    }
    return references(*a, id, offset_of(*a, id, field(params, "position", Json::value_t::object)),
                      declaration);
  }
  if (method == "textDocument/documentSymbol") {
    auto [a, id] = locate(params);
    return document_symbols(*a, id);
  }
  if (method == "textDocument/prepareRename") {
    auto [a, id] = locate(params);
    return prepare_rename(*a, id,
                          offset_of(*a, id, field(params, "position", Json::value_t::object)));
  }
  if (method == "textDocument/rename") {
    auto [a, id] = locate(params);
    std::string error;
    auto edit = rename(*a, id, offset_of(*a, id, field(params, "position", Json::value_t::object)),
                       string_field(params, "newName"), error);
    if (!edit) throw RequestError{ErrorCode::kRequestFailed, error};
    return *edit;
  }
  if (method == "textDocument/codeAction") {
    auto [a, id] = locate(params);
    const Json& range = field(params, "range", Json::value_t::object);
    const std::uint32_t begin = offset_of(*a, id, field(range, "start", Json::value_t::object));
    const std::uint32_t end = offset_of(*a, id, field(range, "end", Json::value_t::object));
    return code_actions(*a, id, begin, end);
  }
  if (method == "textDocument/formatting") {
    auto [a, id] = locate(params);
    std::string error;
    auto edits = format_edits(*a, id, error);
    if (!edits) throw RequestError{ErrorCode::kRequestFailed, error};
    return *edits;
  }
  throw RequestError{ErrorCode::kMethodNotFound, "unknown method '" + method + "'"};
}

void Server::notify(const std::string& method, const Json& params) {
  if (method == "exit") {
    exited_ = true;
    return;
  }
  if (!initialized_ || shutdown_) return;  // notifications then are dropped (the protocol)
  if (method == "textDocument/didOpen") {
    did_open(params);
  } else if (method == "textDocument/didChange") {
    did_change(params);
  } else if (method == "textDocument/didClose") {
    did_close(params);
  } else if (method == "textDocument/didSave") {
    // Files read from disk (includes not open in the editor) may have changed as well.
    for (const auto& [path, doc] : open_) dirty_.insert(path);
  }
  // initialized, $/cancelRequest, $/setTrace, workspace/didChangeConfiguration...: nothing to do.
}

Json Server::initialize(const Json& params) {
  if (initialized_) throw RequestError{ErrorCode::kInvalidRequest, "initialize was already sent"};
  if (!params.is_object())
    throw RequestError{ErrorCode::kInvalidParams, "params must be an object"};
  initialized_ = true;
  Json capabilities = {
      {"textDocumentSync", {{"openClose", true}, {"change", 1}, {"save", true}}},
      {"hoverProvider", true},
      {"completionProvider", {{"triggerCharacters", {"."}}}},
      {"definitionProvider", true},
      {"referencesProvider", true},
      {"documentSymbolProvider", true},
      {"renameProvider", {{"prepareProvider", true}}},
      {"codeActionProvider", {{"codeActionKinds", {"quickfix"}}}},
      {"documentFormattingProvider", true},
  };
  return {{"capabilities", std::move(capabilities)},
          {"serverInfo", {{"name", "amatac"}, {"version", std::string(base::version())}}}};
}

void Server::did_open(const Json& params) {
  const Json& doc = field(params, "textDocument", Json::value_t::object);
  const std::string& uri = string_field(doc, "uri");
  Document d{uri, string_field(doc, "text"), doc.value("version", std::int64_t{0})};
  const std::string path = path_of(uri);
  open_[path] = std::move(d);
  dirty_.insert(path);
}

void Server::did_change(const Json& params) {
  const Json& doc = field(params, "textDocument", Json::value_t::object);
  const std::string& uri = string_field(doc, "uri");
  const std::string path = path_of(uri);
  auto it = open_.find(path);
  if (it == open_.end()) {
    throw RequestError{ErrorCode::kInvalidParams, "didChange of a document never opened: " + uri};
  }
  std::string text = it->second.text;
  for (const Json& change : field(params, "contentChanges", Json::value_t::array)) {
    const std::string& replacement = string_field(change, "text");
    auto range = change.find("range");
    if (range == change.end()) {
      text = replacement;
      continue;
    }
    // Incremental: the server asks for full text, but a client may send ranges anyway.
    const LineIndex lines(text);
    const auto at = [&](const char* key) {
      const Json& p = field(*range, key, Json::value_t::object);
      return lines.offset(
          {field(p, "line", Json::value_t::number_unsigned).get<std::uint32_t>(),
           field(p, "character", Json::value_t::number_unsigned).get<std::uint32_t>()});
    };
    const std::uint32_t begin = at("start");
    const std::uint32_t end = std::max(begin, at("end"));
    text.replace(begin, end - begin, replacement);
  }
  it->second.text = std::move(text);
  it->second.version = doc.value("version", it->second.version + 1);
  dirty_.insert(path);
}

void Server::did_close(const Json& params) {
  const Json& doc = field(params, "textDocument", Json::value_t::object);
  const std::string path = path_of(string_field(doc, "uri"));
  open_.erase(path);
  analyses_.erase(path);
  dirty_.insert(path);  // its includers read it from disk again
}

void Server::flush() {
  if (dirty_.empty()) return;
  const OpenText open = [this](const std::string& path) -> const std::string* {
    auto it = open_.find(path);
    return it == open_.end() ? nullptr : &it->second.text;
  };
  // The analyses replaced are freed after publishing: freeing a large syntax tree takes a
  // good part of the time building it took, and the editor need not wait for it.
  std::vector<std::unique_ptr<Analysis>> retired;
  for (const auto& [path, doc] : open_) {
    auto& analysis = analyses_[path];
    bool stale = !analysis || dirty_.count(path);
    for (auto d = dirty_.begin(); !stale && d != dirty_.end(); ++d) {
      stale = analysis->file(*d).has_value();
    }
    if (!stale) continue;
    retired.push_back(std::move(analysis));
    analysis = Analysis::run(path, open);
  }
  dirty_.clear();
  publish();
}

void Server::publish() {
  // Which analysis speaks for each file: one that includes it (the file is checked with the
  // names of the policy around it), else its own when it is open.
  provider_.clear();
  for (const auto& [root, analysis] : analyses_) {
    for (const std::string& path : analysis->paths()) {
      if (path != root) provider_.emplace(path, analysis.get());
    }
  }
  for (const auto& [root, analysis] : analyses_) provider_.emplace(root, analysis.get());

  for (const auto& [path, analysis] : provider_) {
    const auto id = analysis->file(path);
    if (!id) continue;
    Json diagnostics = lsp_diagnostics(*analysis, *id);
    auto sent = published_.find(path);
    if (sent != published_.end() ? sent->second.second == diagnostics : diagnostics.empty()) {
      continue;
    }
    std::string uri = file_uri(*analysis, *id);
    Json params = {{"diagnostics", diagnostics}};
    if (auto doc = open_.find(path); doc != open_.end()) {
      uri = doc->second.uri;
      params["version"] = doc->second.version;
    }
    params["uri"] = uri;
    send(notification("textDocument/publishDiagnostics", std::move(params)));
    published_[path] = {std::move(uri), std::move(diagnostics)};
  }
  // Files no policy loads any more (closed, or no longer included): clear what they showed.
  for (auto it = published_.begin(); it != published_.end();) {
    if (provider_.count(it->first)) {
      ++it;
      continue;
    }
    if (!it->second.second.empty()) {
      send(notification("textDocument/publishDiagnostics",
                        {{"uri", it->second.first}, {"diagnostics", Json::array()}}));
    }
    it = published_.erase(it);
  }
}

std::pair<const Analysis*, ast::FileId> Server::locate(const Json& params) const {
  const Json& doc = field(params, "textDocument", Json::value_t::object);
  return locate_uri(string_field(doc, "uri"));
}

std::pair<const Analysis*, ast::FileId> Server::locate_uri(const std::string& uri) const {
  const std::string path = path_of(uri);
  auto it = provider_.find(path);
  if (it != provider_.end()) {
    if (auto id = it->second->file(path)) return {it->second, *id};
  }
  throw RequestError{ErrorCode::kInvalidParams,
                     "unknown document " + uri + " (not opened, nor included by an open policy)"};
}

std::uint32_t Server::offset_of(const Analysis& a, ast::FileId id, const Json& position) const {
  const auto line = field(position, "line", Json::value_t::number_unsigned).get<std::uint32_t>();
  const auto character =
      field(position, "character", Json::value_t::number_unsigned).get<std::uint32_t>();
  return a.lines(id).offset({line, character});
}

}  // namespace amata::lsp
