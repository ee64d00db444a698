#include "engine/web/html.h"

#include <gtest/gtest.h>

namespace amata::web {
namespace {

TEST(Html, EscapesEveryCharacterThatCouldEndTextOrAnAttribute) {
  EXPECT_EQ(escape(R"(<script>alert("x") & 'y'</script>)"),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;");
  EXPECT_EQ(escape("web-1 ünïcode"), "web-1 ünïcode");
  EXPECT_EQ(escape(""), "");
}

TEST(Html, UrlComponentEncodesAllButUnreservedCharacters) {
  EXPECT_EQ(url_component("down[web]"), "down%5Bweb%5D");
  EXPECT_EQ(url_component("a b/c?d&e=f\"<"), "a%20b%2Fc%3Fd%26e%3Df%22%3C");
  EXPECT_EQ(url_component("web-1_x.y~"), "web-1_x.y~");
  EXPECT_EQ(url_component("é"), "%C3%A9");
}

TEST(Html, StatesMapToColours) {
  EXPECT_EQ(tone_class(state_tone("running")), "green");
  EXPECT_EQ(tone_class(state_tone("monitored")), "green");
  EXPECT_EQ(tone_class(state_tone("armed")), "green");
  EXPECT_EQ(tone_class(state_tone("pending")), "amber");
  EXPECT_EQ(tone_class(state_tone("backoff")), "amber");
  EXPECT_EQ(tone_class(state_tone("unmonitored")), "amber");
  EXPECT_EQ(tone_class(state_tone("stopped")), "amber");
  EXPECT_EQ(tone_class(state_tone("firing")), "red");
  EXPECT_EQ(tone_class(state_tone("gave-up")), "red");
  EXPECT_EQ(tone_class(state_tone("failed")), "red");
  // Another node's service, and words this amatad does not know: never shown as good.
  EXPECT_EQ(tone_class(state_tone("standby")), "grey");
  EXPECT_EQ(tone_class(state_tone("something-new")), "grey");
}

TEST(Html, PageEscapesItsTitleAndMarksItsSection) {
  Page page;
  page.title = "Rule <x>";
  page.section = Section::kRules;
  page.policy = "p&q";
  page.body = "<p>body</p>";
  std::string html = render_page(page);
  EXPECT_NE(html.find("<title>Rule &lt;x&gt; · amatad</title>"), std::string::npos);
  EXPECT_NE(html.find(R"(<a href="/rules" aria-current="page">rules</a>)"), std::string::npos);
  EXPECT_NE(html.find(R"(<a href="/">overview</a>)"), std::string::npos);
  EXPECT_NE(html.find("policy p&amp;q"), std::string::npos);
  EXPECT_NE(html.find("<p>body</p>"), std::string::npos);
  EXPECT_EQ(html.find("http-equiv=\"refresh\""), std::string::npos);
  // The assets are the compiled-in ones, from this server, never a CDN.
  EXPECT_NE(html.find(R"(href="/static/web.css")"), std::string::npos);
  EXPECT_NE(html.find(R"(src="/static/web.js")"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  page.refresh_seconds = 5;
  EXPECT_NE(render_page(page).find(R"(<meta http-equiv="refresh" content="5">)"),
            std::string::npos);
}

}  // namespace
}  // namespace amata::web
