#include "probes/raid_probe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "probes/sysfs_files.h"
#include "probes/sysfs_parse.h"

namespace amata::probes {
namespace {

double number_or_unknown(const std::optional<std::int64_t>& value) {
  return value && *value >= 0 ? static_cast<double>(*value) : kUnknown;
}

/// Reads `name` (relative to `dir_fd`) into `buf`; its length, or -1. Opened and closed at
/// once: a member's directory may vanish between two polls.
ssize_t read_at(int dir_fd, const char* name, char* buf, std::size_t size) {
  int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n;
  do {
    n = pread(fd, buf, size, 0);
  } while (n < 0 && errno == EINTR);
  close(fd);
  return n;
}

}  // namespace

Result<std::unique_ptr<RaidProbe>> RaidProbe::create(int object, const catalog::ObjectSpec& spec,
                                                     ProbeContext& ctx) {
  const std::string& array = spec.array;
  if (array.empty() || array == "." || array == ".." || array.find('/') != std::string::npos) {
    return Error{"object " + spec.name + ": raid needs an `array` such as \"md0\""};
  }
  std::unique_ptr<RaidProbe> p(new RaidProbe(object, spec, ctx));
  p->resolve();
  return p;
}

RaidProbe::~RaidProbe() {
  forget();
}

bool RaidProbe::resolve() {
  forget();
  const std::string dir = ctx_.options.sys_root + "/block/" + spec().array + "/md";
  array_state_ = open_attribute(dir + "/array_state");
  md_fd_ = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (!array_state_.is_open() || md_fd_ < 0) {
    forget();
    if (!noticed_) {
      noticed_ = true;
      ctx_.sink.notice(object(), "raid " + spec().name + ": no MD array at " + dir +
                                     "; unknown until it is assembled");
    }
    return false;
  }
  // Levels without redundancy (raid0, linear) have no degraded, sync_* or mismatch_cnt.
  degraded_ = open_attribute(dir + "/degraded");
  raid_disks_ = open_attribute(dir + "/raid_disks");
  sync_action_ = open_attribute(dir + "/sync_action");
  sync_completed_ = open_attribute(dir + "/sync_completed");
  mismatch_cnt_ = open_attribute(dir + "/mismatch_cnt");
  source_ = dir;
  noticed_ = false;
  return true;
}

void RaidProbe::forget() {
  for (ProcFile* f :
       {&array_state_, &degraded_, &raid_disks_, &sync_action_, &sync_completed_, &mismatch_cnt_}) {
    f->close();
  }
  if (md_fd_ >= 0) close(md_fd_);
  md_fd_ = -1;
  source_.clear();
}

void RaidProbe::write_unknown() {
  for (const char* name : {"state", "degraded", "disks", "failed_disks", "sync_action",
                           "sync_completed", "mismatches"}) {
    ctx_.sink.set_number(object(), name, kUnknown);
  }
  ctx_.sink.sampled(object());
}

std::optional<int> RaidProbe::count_failed_members() {
  if (lseek(md_fd_, 0, SEEK_SET) < 0) return std::nullopt;
  alignas(8) char entries[8192];
  int failed = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, md_fd_, entries, sizeof entries);
    if (n < 0) return std::nullopt;
    if (n == 0) return failed;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<linux_dirent64_view*>(entries + off);
      off += d->reclen;
      if (std::strncmp(d->name, "dev-", 4) != 0) continue;
      char path[300];
      std::size_t len = std::strlen(d->name);
      if (len + sizeof "/state" > sizeof path) continue;
      std::memcpy(path, d->name, len);
      std::memcpy(path + len, "/state", sizeof "/state");
      char state[256];
      ssize_t got = read_at(md_fd_, path, state, sizeof state);
      if (got > 0 && md_dev_state_faulty(std::string_view(state, static_cast<std::size_t>(got)))) {
        ++failed;
      }
    }
  }
}

void RaidProbe::poll() {
  MeasurementSink& sink = ctx_.sink;
  int o = object();
  if (source_.empty() && !resolve()) {
    write_unknown();
    return;
  }
  std::optional<int> state;
  if (auto text = array_state_.read()) state = md_array_state_ordinal(*text);
  if (!state && went_away(array_state_, source_ + "/array_state")) {
    // Stopped (mdadm --stop), or stopped and assembled again: find it anew.
    sink.notice(o, "raid " + spec().name + ": " + source_ + " went away");
    forget();
    write_unknown();
    return;
  }
  sink.set_number(o, "state", state ? *state : kUnknown);
  sink.set_number(o, "degraded", number_or_unknown(read_int(degraded_)));
  sink.set_number(o, "disks", number_or_unknown(read_int(raid_disks_)));
  std::optional<int> failed = count_failed_members();
  sink.set_number(o, "failed_disks", failed ? *failed : kUnknown);

  std::optional<int> action;
  if (sync_action_.is_open()) {
    if (auto text = sync_action_.read()) action = md_sync_action_ordinal(*text);
  }
  sink.set_number(o, "sync_action", action ? *action : kUnknown);
  std::optional<double> completed;
  if (sync_completed_.is_open()) {
    if (auto text = sync_completed_.read()) completed = parse_md_sync_completed(*text);
  }
  sink.set_number(o, "sync_completed", completed ? *completed : kUnknown);
  sink.set_number(o, "mismatches", number_or_unknown(read_int(mismatch_cnt_)));
  sink.sampled(o);
}

}  // namespace amata::probes
