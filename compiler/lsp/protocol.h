// The wire of the Language Server Protocol: JSON-RPC 2.0 messages framed by a
// `Content-Length` header, as an editor writes them to the server's stdin. Reading never
// throws: a malformed frame is a result the server answers with a JSON-RPC error.
#pragma once

#include <cstddef>
#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

namespace amata::lsp {

using Json = nlohmann::json;

/// JSON-RPC 2.0 and LSP error codes.
enum class ErrorCode : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  kServerNotInitialized = -32002,
  kRequestFailed = -32803,
};

/// The largest message body read (a 16 MiB policy, JSON-escaped, fits).
inline constexpr std::size_t kMaxMessageBytes = 64u << 20;

enum class ReadStatus {
  kMessage,    // `body` holds one message body
  kEnd,        // the stream ended (between messages, or cut inside one)
  kMalformed,  // a bad header block or an oversized body; `error` says which. The frame is
               // skipped: the next read starts at the next `Content-Length` header.
};

/// Reads one framed message: header lines (`Name: value`, ending with CRLF or LF), an empty
/// line, then exactly Content-Length bytes.
ReadStatus read_message(std::istream& in, std::string& body, std::string& error);

/// Writes `message` framed, and flushes. Invalid UTF-8 in strings is replaced, never thrown.
void write_message(std::ostream& out, const Json& message);

/// `{"jsonrpc":"2.0","id":id,"result":result}`
Json response(const Json& id, Json result);
/// `{"jsonrpc":"2.0","id":id,"error":{"code":code,"message":message}}`
Json error_response(const Json& id, ErrorCode code, const std::string& message);
/// `{"jsonrpc":"2.0","method":method,"params":params}`
Json notification(const std::string& method, Json params);

}  // namespace amata::lsp
