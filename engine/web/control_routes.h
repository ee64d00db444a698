// The routes that change something, when amatad has a token file (--web-token): log in, log
// out, and POST /control (restart, start, stop). Without one, POST /control answers 403 and
// the view stays read-only. control.h says how operators, sessions and CSRF tokens work.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "engine/web/control.h"
#include "engine/web/html.h"

namespace httplib {
class Server;
struct Request;
}  // namespace httplib

namespace amata::web {

/// Who is looking at a page: nobody logged in, or an operator with the session's CSRF token.
struct Viewer {
  std::string operator_name;  // empty: not logged in
  std::string csrf;
};

/// The viewer of `request` (its session cookie), when control is on.
Viewer viewer_of(Sessions& sessions, const httplib::Request& request);

/// The header's account corner for `viewer` (empty when control is off).
std::string account_html(const Sessions& sessions, const Viewer& viewer);
/// `page` with the account corner and the footer for `viewer`.
Page with_viewer(const Sessions& sessions, const Viewer& viewer, Page page);

/// Adds /login, /logout and /control to `server`; each control action is sent to the
/// console at `socket_path` for "web:NAME from ADDRESS".
void mount_control(httplib::Server& server, const std::shared_ptr<Sessions>& sessions,
                   const std::string& socket_path, std::chrono::milliseconds timeout);

/// The restart, start and stop buttons of `object`, each a form carrying `csrf`.
std::string control_forms(std::string_view object, std::string_view csrf);

}  // namespace amata::web
