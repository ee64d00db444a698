#include "engine/web/serving.h"

#include <httplib.h>

#include "engine/console/client.h"
#include "engine/web/pages.h"

namespace amata::web {

using Json = nlohmann::json;

Answer ask(console::ConsoleClient& client, std::string_view cmd, const Json& args,
           std::chrono::milliseconds timeout) {
  auto reply = client.call(cmd, args, timeout);
  if (!reply) return {Json(), "unreachable", reply.error().message};
  const Json& value = *reply;
  if (value.is_object() && value.value("ok", false) && value.contains("result")) {
    return {value["result"], "", ""};
  }
  Json error = value.is_object() ? value.value("error", Json::object()) : Json::object();
  if (!error.is_object()) error = Json::object();
  return {Json(), error.value("code", std::string("internal")),
          error.value("message", std::string("amatad refused the request"))};
}

void harden(httplib::Response& response) {
  response.set_header("Content-Security-Policy",
                      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
                      "data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
                      "frame-ancestors 'none'");
  response.set_header("X-Content-Type-Options", "nosniff");
  // same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" with a
  // form's POST, and the control routes tell their own forms from others' by the Origin.
  response.set_header("Referrer-Policy", "same-origin");
  response.set_header("Cache-Control", "no-store");
}

void send(httplib::Response& response, const Page& page, int status) {
  harden(response);
  response.status = status;
  response.set_content(render_page(page), "text/html; charset=utf-8");
}

void send_failure(httplib::Response& response, const Answer& answer) {
  send(response, unavailable_page(answer.code + ": " + answer.message), 503);
}

}  // namespace amata::web
