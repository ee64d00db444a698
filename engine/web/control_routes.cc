#include "engine/web/control_routes.h"

#include <fmt/format.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "engine/console/client.h"
#include "engine/web/pages.h"
#include "engine/web/serving.h"

namespace amata::web {
namespace {

using Json = nlohmann::json;

// A wrong name or token costs the guesser this long (one HTTP worker each): online guessing of
// a 16-character token is hopeless anyway, and this keeps a script from trying fast.
constexpr std::chrono::seconds kFailedLoginDelay{1};

Page message_page(std::string title, const std::string& text, const Viewer& viewer,
                  const Sessions& sessions) {
  Page page;
  page.title = std::move(title);
  page.body = "<p>" + escape(text) + "</p>\n<p><a href=\"/\">back to the overview</a></p>\n";
  return with_viewer(sessions, viewer, std::move(page));
}

Page login_page(const std::string& problem) {
  Page page;
  page.title = "Log in";
  page.body =
      (problem.empty() ? "" : "<p class=\"problem\">" + escape(problem) + "</p>\n") +
      "<p>Restart, start and stop need an operator's name and token (amatad --web-token).</p>\n"
      "<form class=\"login\" method=\"post\" action=\"/login\">"
      "<label>name <input name=\"name\" autocomplete=\"username\" required></label> "
      "<label>token <input name=\"token\" type=\"password\" autocomplete=\"current-password\" "
      "required></label> <button type=\"submit\">log in</button></form>\n";
  page.access = Page::Access::kLoggedOut;
  return page;
}

// Whether a form post comes from the view's own pages: browsers send Origin with every POST
// (and the pages ask for no Referer). A post from elsewhere, or with neither, is refused.
bool same_origin(const httplib::Request& request) {
  const std::string host = request.get_header_value("Host");
  if (host.empty()) return false;
  const std::string origin = request.get_header_value("Origin");
  if (!origin.empty()) return origin == "http://" + host;
  const std::string referer = request.get_header_value("Referer");
  return referer.starts_with("http://" + host + "/");
}

void see_other(httplib::Response& response, const std::string& where) {
  harden(response);
  response.status = 303;
  response.set_header("Location", where);
}

void forbid(httplib::Response& response, const Sessions& sessions, const Viewer& viewer,
            const std::string& why) {
  send(response, message_page("Refused", why, viewer, sessions), 403);
}

}  // namespace

Viewer viewer_of(Sessions& sessions, const httplib::Request& request) {
  if (!sessions.enabled()) return {};
  const std::string id = cookie_value(request.get_header_value("Cookie"), kSessionCookie);
  auto session = sessions.find(id);
  if (!session) return {};
  return {session->operator_name, session->csrf};
}

std::string account_html(const Sessions& sessions, const Viewer& viewer) {
  if (!sessions.enabled()) return "";
  if (viewer.operator_name.empty()) {
    return R"(<a class="account" href="/login">log in</a>)";
  }
  return fmt::format(
      R"(<form class="account" method="post" action="/logout"><span>{}</span> )"
      R"(<input type="hidden" name="csrf" value="{}"><button type="submit">log out</button>)"
      R"(</form>)",
      escape(viewer.operator_name), escape(viewer.csrf));
}

Page with_viewer(const Sessions& sessions, const Viewer& viewer, Page page) {
  page.account = account_html(sessions, viewer);
  page.access = !sessions.enabled()            ? Page::Access::kReadOnly
                : viewer.operator_name.empty() ? Page::Access::kLoggedOut
                                               : Page::Access::kLoggedIn;
  return page;
}

std::string control_forms(std::string_view object, std::string_view csrf) {
  std::string out;
  for (const char* verb : {"restart", "stop", "start"}) {
    out += fmt::format(
        R"(<form class="control" method="post" action="/control">)"
        R"(<input type="hidden" name="csrf" value="{}">)"
        R"(<input type="hidden" name="object" value="{}">)"
        R"(<button type="submit" name="verb" value="{}" data-verb="{}">{}</button></form>)",
        escape(csrf), escape(object), verb, verb, verb);
  }
  return out;
}

void mount_control(httplib::Server& server, const std::shared_ptr<Sessions>& sessions,
                   const std::string& socket_path, std::chrono::milliseconds timeout) {
  if (!sessions->enabled()) {
    // Read-only: nothing may change the daemon from here, and a form that tries is told so.
    server.Post("/control", [sessions](const httplib::Request&, httplib::Response& response) {
      forbid(response, *sessions, {},
             "This view is read-only: amatad was started without --web-token.");
    });
    return;
  }
  server.Get("/login", [](const httplib::Request&, httplib::Response& response) {
    send(response, login_page(""));
  });
  server.Post("/login", [sessions](const httplib::Request& request, httplib::Response& response) {
    if (!same_origin(request)) {
      return forbid(response, *sessions, {}, "A log-in must come from this page.");
    }
    auto name =
        sessions->check_login(request.get_param_value("name"), request.get_param_value("token"));
    if (!name) {
      std::this_thread::sleep_for(kFailedLoginDelay);
      return send(response, login_page("Wrong name or token."), 403);
    }
    const std::string id = sessions->open(*name);
    see_other(response, "/");
    response.set_header("Set-Cookie",
                        fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                                    kSessionCookie, id, sessions->lifetime().count()));
  });
  server.Post("/logout", [sessions](const httplib::Request& request, httplib::Response& response) {
    const Viewer viewer = viewer_of(*sessions, request);
    if (!viewer.operator_name.empty() && same_origin(request) &&
        same_secret(request.get_param_value("csrf"), viewer.csrf)) {
      sessions->close(cookie_value(request.get_header_value("Cookie"), kSessionCookie));
    }
    see_other(response, "/");
    response.set_header("Set-Cookie", fmt::format("{}=; Path=/; HttpOnly; SameSite=Strict; "
                                                  "Max-Age=0",
                                                  kSessionCookie));
  });
  server.Post("/control", [sessions, socket_path, timeout](const httplib::Request& request,
                                                           httplib::Response& response) {
    const Viewer viewer = viewer_of(*sessions, request);
    if (viewer.operator_name.empty()) {
      return forbid(response, *sessions, viewer, "Log in first: control needs an operator.");
    }
    if (!same_origin(request)) {
      return forbid(response, *sessions, viewer, "The request did not come from this view.");
    }
    if (!same_secret(request.get_param_value("csrf"), viewer.csrf)) {
      return forbid(response, *sessions, viewer,
                    "The form is stale or forged (its token is not this session's); reload "
                    "the page and try again.");
    }
    const std::string verb = request.get_param_value("verb");
    const std::string object = request.get_param_value("object");
    if (!web_control_verb(verb) || object.empty()) {
      return send(
          response,
          message_page("Bad request", "restart, start or stop of one object", viewer, *sessions),
          400);
    }
    auto client = console::ConsoleClient::connect(socket_path, nullptr, timeout);
    if (!client) return send_failure(response, {Json(), "unreachable", client.error().message});
    const std::string who = "web:" + viewer.operator_name + " from " + request.remote_addr;
    Answer answer = ask(*client, verb, {{"object", object}, {"on_behalf_of", who}}, timeout);
    if (!answer.ok()) {
      return send(response,
                  message_page("Refused", answer.code + ": " + answer.message, viewer, *sessions),
                  answer.code == "unreachable" ? 503 : 409);
    }
    // The timeline of that object shows the action and how it ends, live.
    see_other(response, "/events?object=" + url_component(object));
  });
}

}  // namespace amata::web
