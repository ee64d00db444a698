// Control from the web view: restart, start and stop buttons for operators who logged in with
// a token (amatad --web-token FILE). Without that file the view stays read-only.
//
// The token file is root's: "NAME TOKEN" per line, readable by its owner only. An operator
// logs in with both; the view then keeps a session (in memory: amatad's restart logs everyone
// out) in an HttpOnly, SameSite=Strict cookie, and every form that changes something carries
// the session's CSRF token, checked in constant time, and must come from the view's own
// origin. A control action goes to amatad's console like amatactl's, with "web:NAME from
// ADDRESS" as whom it is for, so the history says who did it (a Control event).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace amata::web {

/// One line of the token file.
struct Operator {
  std::string name;   // 1 to 32 of letters, digits, '_', '.', '-'
  std::string token;  // at least 16 printable characters without blanks
};

/// Reads `path`: "NAME TOKEN" per line, `#` comments and blank lines ignored. Refused unless
/// it is a regular file owned by root or by amatad's user that neither group nor others may
/// read or write (the tokens are the keys to restart services), or when a line is malformed
/// or a name repeats; at least one operator.
Result<std::vector<Operator>> read_token_file(const std::string& path);

/// Whether two secrets are equal, in a time that does not depend on where they differ.
bool same_secret(std::string_view a, std::string_view b);

/// `bytes` random bytes from the kernel (getrandom), as hex.
std::string random_hex(std::size_t bytes);

/// The value of cookie `name` in a Cookie header ("a=1; amata_session=abc"), or "".
std::string cookie_value(std::string_view header, std::string_view name);

/// The name of the view's session cookie.
inline constexpr std::string_view kSessionCookie = "amata_session";

/// The logged-in operators. Thread-safe: the HTTP workers share it.
class Sessions {
 public:
  struct Session {
    std::string operator_name;
    std::string csrf;  // every form that changes something carries it
    std::chrono::steady_clock::time_point expires;
  };

  explicit Sessions(std::vector<Operator> operators,
                    std::chrono::seconds lifetime = std::chrono::hours(8),
                    std::size_t max_sessions = 64);

  /// Whether anyone may log in (a token file was given).
  bool enabled() const { return !operators_.empty(); }
  /// The operator `name` whose token is `token`, or nullopt. Every operator's token is
  /// compared, so the time says nothing about which names exist.
  std::optional<std::string> check_login(std::string_view name, std::string_view token) const;
  /// A new session for `operator_name`; returns its id (the cookie's value). The oldest
  /// session goes when there are max_sessions.
  std::string open(const std::string& operator_name);
  /// The session with id `id`, if it has not expired.
  std::optional<Session> find(std::string_view id);
  void close(std::string_view id);
  std::chrono::seconds lifetime() const { return lifetime_; }

 private:
  std::vector<Operator> operators_;
  std::chrono::seconds lifetime_;
  std::size_t max_sessions_;
  std::mutex mutex_;
  std::map<std::string, Session, std::less<>> sessions_;  // by id
};

/// The verbs the view offers: restart, start and stop.
bool web_control_verb(std::string_view verb);

}  // namespace amata::web
