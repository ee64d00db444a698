// The web view's stylesheet and script, compiled into amatad (assets/*, turned into
// assets.cc by CMake): nothing is installed beside the binary and nothing is fetched.
#pragma once

#include <string_view>

namespace amata::web {

/// assets/web.css, served as /static/web.css.
std::string_view stylesheet();
/// assets/web.js, served as /static/web.js: keeps /events live; every page works without it.
std::string_view script();

}  // namespace amata::web
