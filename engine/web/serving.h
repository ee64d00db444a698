// What every route of the web view does alike: ask amatad's console and read its answer,
// harden the response's headers, send a page. Shared by web_view.cc and control_routes.cc.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "engine/web/html.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace amata::console {
class ConsoleClient;
}

namespace amata::web {

/// An answer of the console: its result, or why there is none (the console's error code, or
/// "unreachable" when it could not be asked).
struct Answer {
  nlohmann::json result;
  std::string code;
  std::string message;
  bool ok() const { return code.empty(); }
};

/// One request to the console, waited for at most `timeout`.
Answer ask(console::ConsoleClient& client, std::string_view cmd, const nlohmann::json& args,
           std::chrono::milliseconds timeout);

/// Security headers for every page: nothing from elsewhere, no framing, no sniffing.
void harden(httplib::Response& response);

/// `page` as the response, with `status`.
void send(httplib::Response& response, const Page& page, int status = 200);

/// The console did not answer, or refused: a 503 page that says why.
void send_failure(httplib::Response& response, const Answer& answer);

}  // namespace amata::web
