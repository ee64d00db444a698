// Control from the web view: the token file's checks, sessions and CSRF tokens, and the routes
// against amatad's real console server (with a recording backend) and a real httplib server:
// nothing changes without a logged-in operator, a same-origin form and the session's token,
// and what does change reaches the console in the operator's name.
#include "engine/web/control.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "engine/console/console_server.h"
#include "engine/console/test_backend.h"
#include "engine/web/web_view.h"

namespace amata::web {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("control_test." + std::to_string(getpid()) + "." + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text, mode_t mode) const {
    std::string file = (path_ / name).string();
    std::ofstream(file) << text;
    chmod(file.c_str(), mode);
    return file;
  }
  fs::path path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

constexpr const char* kAliceToken = "0123456789abcdef0123456789abcdef";

TEST(TokenFile, ReadsOperatorsAndSkipsCommentsAndBlankLines) {
  TempDir dir;
  auto ops = read_token_file(dir.write("tokens",
                                       std::string("# who may restart\n\nalice ") + kAliceToken +
                                           "\nbob.b-2 " + std::string(40, 'z') + "\n",
                                       0600));
  ASSERT_TRUE(ops) << ops.error().message;
  ASSERT_EQ(ops->size(), 2U);
  EXPECT_EQ((*ops)[0].name, "alice");
  EXPECT_EQ((*ops)[0].token, kAliceToken);
  EXPECT_EQ((*ops)[1].name, "bob.b-2");
}

TEST(TokenFile, RefusesWhatAnyoneElseCouldReadAndWhatIsMalformed) {
  TempDir dir;
  const std::string good = std::string("alice ") + kAliceToken + "\n";
  auto readable = read_token_file(dir.write("a", good, 0644));
  ASSERT_FALSE(readable);
  EXPECT_NE(readable.error().message.find("group or others may read or write it"),
            std::string::npos);
  auto short_token = read_token_file(dir.write("b", "alice short\n", 0600));
  ASSERT_FALSE(short_token);
  EXPECT_NE(short_token.error().message.find(":1: a token is 16 to 256"), std::string::npos)
      << short_token.error().message;
  auto twice = read_token_file(dir.write("c", good + good, 0600));
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find(":2: 'alice' is named twice"), std::string::npos);
  EXPECT_FALSE(read_token_file(dir.write("d", "al ice " + std::string(kAliceToken) + "\n", 0600)));
  EXPECT_FALSE(read_token_file(dir.write("e", "# nobody\n", 0600)));
  EXPECT_FALSE(read_token_file((dir.path() / "missing").string()));
  EXPECT_FALSE(read_token_file(dir.path().string()));  // a directory
}

TEST(Secrets, CompareWholeAndRandomHexIsFreshEachTime) {
  EXPECT_TRUE(same_secret("abc", "abc"));
  EXPECT_FALSE(same_secret("abc", "abd"));
  EXPECT_FALSE(same_secret("abc", "abcd"));
  EXPECT_FALSE(same_secret("", "a"));
  EXPECT_TRUE(same_secret("", ""));
  const std::string a = random_hex(32), b = random_hex(32);
  EXPECT_EQ(a.size(), 64U);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(Cookies, FindsOneByName) {
  EXPECT_EQ(cookie_value("a=1; amata_session=xyz; b=2", "amata_session"), "xyz");
  EXPECT_EQ(cookie_value("amata_session=xyz", "amata_session"), "xyz");
  EXPECT_EQ(cookie_value("xamata_session=1", "amata_session"), "");
  EXPECT_EQ(cookie_value("", "amata_session"), "");
}

TEST(SessionsTest, LogInFindCloseAndExpire) {
  Sessions sessions(std::vector<Operator>{{"alice", kAliceToken}});
  ASSERT_TRUE(sessions.enabled());
  EXPECT_FALSE(sessions.check_login("alice", "wrong-token-wrong-token"));
  EXPECT_FALSE(sessions.check_login("bob", kAliceToken));
  ASSERT_EQ(sessions.check_login("alice", kAliceToken), "alice");
  const std::string id = sessions.open("alice");
  auto found = sessions.find(id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->operator_name, "alice");
  EXPECT_EQ(found->csrf.size(), 64U);
  EXPECT_FALSE(sessions.find(id + "x"));
  sessions.close(id);
  EXPECT_FALSE(sessions.find(id));

  Sessions brief(std::vector<Operator>{{"alice", kAliceToken}}, 0s);
  EXPECT_FALSE(brief.find(brief.open("alice"))) << "an expired session is gone";
  EXPECT_FALSE(Sessions(std::vector<Operator>{}).enabled());
}

TEST(SessionsTest, TheOldestGoesWhenThereAreTooMany) {
  Sessions sessions(std::vector<Operator>{{"alice", kAliceToken}}, 1h, 2);
  const std::string first = sessions.open("alice");
  std::this_thread::sleep_for(2ms);
  const std::string second = sessions.open("alice");
  std::this_thread::sleep_for(2ms);
  const std::string third = sessions.open("alice");
  EXPECT_FALSE(sessions.find(first));
  EXPECT_TRUE(sessions.find(second));
  EXPECT_TRUE(sessions.find(third));
}

// The routes, with the real console server serving a recording backend on this thread's loop
// while an HTTP client thread plays the browser.
class ControlRoutes : public ::testing::Test {
 protected:
  void start(std::vector<Operator> operators) {
    auto loop = base::EventLoop::create();
    ASSERT_TRUE(loop);
    loop_ = std::move(*loop);
    const std::string socket = (dir_.path() / "console.sock").string();
    console::ConsoleConfig config;
    config.socket_path = socket;
    auto server = console::ConsoleServer::start(*loop_, backend_, config);
    ASSERT_TRUE(server) << server.error().message;
    console_ = std::move(*server);
    view_ = std::make_unique<WebView>(
        WebOptions{.socket_path = socket, .operators = std::move(operators)});
    view_->mount(http_);
    port_ = http_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    while (!http_.is_running()) std::this_thread::sleep_for(1ms);
  }
  void TearDown() override {
    if (view_) view_->stop();
    http_.stop();
    if (thread_.joinable()) thread_.join();
  }
  /// Runs `browser` on its own thread while this one serves the console.
  void as_browser(const std::function<void(httplib::Client&)>& browser) {
    std::atomic<bool> done{false};
    std::thread t([&] {
      httplib::Client c("127.0.0.1", port_);
      c.set_read_timeout(10, 0);
      browser(c);
      done = true;
    });
    const auto end = std::chrono::steady_clock::now() + 30s;
    while (!done && std::chrono::steady_clock::now() < end) {
      ASSERT_TRUE(loop_->run_once(5ms));
    }
    t.join();
  }
  httplib::Headers same_origin(const std::string& cookie = "") const {
    httplib::Headers h = {{"Origin", "http://127.0.0.1:" + std::to_string(port_)}};
    if (!cookie.empty()) h.emplace("Cookie", cookie);
    return h;
  }
  /// Logs alice in; her session cookie ("amata_session=ID").
  std::string log_in(httplib::Client& c) {
    auto r =
        c.Post("/login", same_origin(), httplib::Params{{"name", "alice"}, {"token", kAliceToken}});
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, 303);
    const std::string set = r->get_header_value("Set-Cookie");
    EXPECT_NE(set.find("HttpOnly"), std::string::npos);
    EXPECT_NE(set.find("SameSite=Strict"), std::string::npos);
    return set.substr(0, set.find(';'));
  }
  static std::string csrf_in(const std::string& page) {
    const std::string marker = R"(name="csrf" value=")";
    const std::size_t at = page.find(marker);
    if (at == std::string::npos) return "";
    const std::size_t begin = at + marker.size();
    return page.substr(begin, page.find('"', begin) - begin);
  }

  TempDir dir_;
  console::testing::RecordingBackend backend_;
  std::unique_ptr<base::EventLoop> loop_;
  std::unique_ptr<console::ConsoleServer> console_;
  std::unique_ptr<WebView> view_;
  httplib::Server http_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(ControlRoutes, ReadOnlyWithoutATokenFile) {
  start({});
  as_browser([&](httplib::Client& c) {
    auto page = c.Get("/");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->body.find("action=\"/control\""), std::string::npos) << "no buttons";
    EXPECT_EQ(page->body.find("log in"), std::string::npos);
    auto refused =
        c.Post("/control", same_origin(), httplib::Params{{"verb", "restart"}, {"object", "web"}});
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 403);
    EXPECT_NE(refused->body.find("read-only"), std::string::npos);
    auto login = c.Get("/login");
    ASSERT_TRUE(login);
    EXPECT_EQ(login->status, 404);
  });
  EXPECT_EQ(backend_.count("restart web"), 0U);
}

TEST_F(ControlRoutes, NothingChangesWithoutAnOperatorHerFormAndHerOrigin) {
  start(std::vector<Operator>{{"alice", kAliceToken}});
  as_browser([&](httplib::Client& c) {
    // No session: refused, and the overview offers a log-in but no buttons.
    auto page = c.Get("/");
    ASSERT_TRUE(page);
    EXPECT_NE(page->body.find(R"(href="/login")"), std::string::npos);
    EXPECT_EQ(page->body.find("action=\"/control\""), std::string::npos);
    EXPECT_NE(page->body.find("read-only until an operator logs in"), std::string::npos);
    // Every page offers the log-in: an object's, and a 404.
    for (const char* path : {"/objects/web", "/objects/nope", "/cluster"}) {
      auto other = c.Get(path);
      ASSERT_TRUE(other) << path;
      EXPECT_NE(other->body.find(R"(href="/login")"), std::string::npos) << path;
    }
    auto anonymous =
        c.Post("/control", same_origin(), httplib::Params{{"verb", "restart"}, {"object", "web"}});
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->status, 403);
    // A wrong token is refused (after a pause).
    auto wrong = c.Post("/login", same_origin(),
                        httplib::Params{{"name", "alice"}, {"token", "not-her-token-at-all"}});
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 403);
    EXPECT_TRUE(wrong->get_header_value("Set-Cookie").empty());

    const std::string cookie = log_in(c);
    ASSERT_FALSE(cookie.empty());
    auto mine = c.Get("/", httplib::Headers{{"Cookie", cookie}});
    ASSERT_TRUE(mine);
    const std::string csrf = csrf_in(mine->body);
    ASSERT_EQ(csrf.size(), 64U) << mine->body;
    EXPECT_NE(mine->body.find("data-verb=\"restart\""), std::string::npos);
    EXPECT_NE(mine->body.find("in the name of who logged in"), std::string::npos);

    // Her session, but another page's form: no token, a stale token, another origin.
    auto no_token = c.Post("/control", same_origin(cookie),
                           httplib::Params{{"verb", "restart"}, {"object", "web"}});
    ASSERT_TRUE(no_token);
    EXPECT_EQ(no_token->status, 403);
    auto stale = c.Post(
        "/control", same_origin(cookie),
        httplib::Params{{"verb", "restart"}, {"object", "web"}, {"csrf", std::string(64, '0')}});
    ASSERT_TRUE(stale);
    EXPECT_EQ(stale->status, 403);
    auto elsewhere =
        c.Post("/control", httplib::Headers{{"Cookie", cookie}, {"Origin", "http://evil.test"}},
               httplib::Params{{"verb", "restart"}, {"object", "web"}, {"csrf", csrf}});
    ASSERT_TRUE(elsewhere);
    EXPECT_EQ(elsewhere->status, 403);
    auto bad_verb = c.Post("/control", same_origin(cookie),
                           httplib::Params{{"verb", "reload"}, {"object", "web"}, {"csrf", csrf}});
    ASSERT_TRUE(bad_verb);
    EXPECT_EQ(bad_verb->status, 400);
  });
  EXPECT_EQ(backend_.count("restart web"), 0U);
  for (const auto& call : backend_.calls) EXPECT_EQ(call.find("restart"), std::string::npos);
}

TEST_F(ControlRoutes, AnOperatorsRestartReachesTheConsoleInHerName) {
  start(std::vector<Operator>{{"alice", kAliceToken}});
  as_browser([&](httplib::Client& c) {
    const std::string cookie = log_in(c);
    auto page = c.Get("/", httplib::Headers{{"Cookie", cookie}});
    ASSERT_TRUE(page);
    const std::string csrf = csrf_in(page->body);
    auto done = c.Post("/control", same_origin(cookie),
                       httplib::Params{{"verb", "restart"}, {"object", "web"}, {"csrf", csrf}});
    ASSERT_TRUE(done);
    EXPECT_EQ(done->status, 303);
    EXPECT_EQ(done->get_header_value("Location"), "/events?object=web");
    auto unknown = c.Post("/control", same_origin(cookie),
                          httplib::Params{{"verb", "stop"}, {"object", "nope"}, {"csrf", csrf}});
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->status, 409);
    EXPECT_NE(unknown->body.find("unknown_object"), std::string::npos);
    // Logged out, her old cookie opens nothing.
    auto out = c.Post("/logout", same_origin(cookie), httplib::Params{{"csrf", csrf}});
    ASSERT_TRUE(out);
    auto after = c.Post("/control", same_origin(cookie),
                        httplib::Params{{"verb", "restart"}, {"object", "web"}, {"csrf", csrf}});
    ASSERT_TRUE(after);
    EXPECT_EQ(after->status, 403);
  });
  EXPECT_EQ(backend_.count("restart web for web:alice from 127.0.0.1"), 1U);
}

}  // namespace
}  // namespace amata::web
