#include "probes/sysfs_files.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "probes/sysfs_parse.h"

namespace amata::probes {
namespace {

/// "hwmon2" < "hwmon10": runs of digits compare by value, everything else bytewise.
bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    bool da = a[i] >= '0' && a[i] <= '9', db = b[j] >= '0' && b[j] <= '9';
    if (da && db) {
      std::size_t ei = i, ej = j;
      while (ei < a.size() && a[ei] >= '0' && a[ei] <= '9') ++ei;
      while (ej < b.size() && b[ej] >= '0' && b[ej] <= '9') ++ej;
      // Leading zeros aside, the longer run is the larger number.
      std::size_t zi = i, zj = j;
      while (zi + 1 < ei && a[zi] == '0') ++zi;
      while (zj + 1 < ej && b[zj] == '0') ++zj;
      if (ei - zi != ej - zj) return ei - zi < ej - zj;
      int c = a.compare(zi, ei - zi, b, zj, ej - zj);
      if (c != 0) return c < 0;
      i = ei;
      j = ej;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

}  // namespace

std::vector<std::string> list_directory(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return names;
  while (dirent* entry = readdir(dir)) {
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    names.emplace_back(entry->d_name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end(), natural_less);
  return names;
}

std::optional<std::string> read_attribute(const std::string& path) {
  auto text = read_small_file(path, 4096);
  if (!text) return std::nullopt;
  return std::string(trim_sysfs(*text));
}

std::string link_basename(const std::string& path) {
  char target[PATH_MAX];
  ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
  if (n <= 0) return {};
  std::string_view link(target, static_cast<std::size_t>(n));
  while (!link.empty() && link.back() == '/') link.remove_suffix(1);
  std::size_t slash = link.rfind('/');
  return std::string(slash == std::string_view::npos ? link : link.substr(slash + 1));
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

ProcFile open_attribute(const std::string& path) {
  auto file = ProcFile::open(path, -100, 64);
  return file ? std::move(*file) : ProcFile();
}

std::optional<std::int64_t> read_int(ProcFile& file) {
  if (!file.is_open()) return std::nullopt;
  auto text = file.read();
  if (!text) return std::nullopt;
  return parse_sysfs_int(*text);
}

bool went_away(const ProcFile& file, const std::string& path) {
  return !path_exists(path) || !file.refers_to(path);
}

}  // namespace amata::probes
