#include "probes/filesystem_probe.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/statvfs.h>

#include <algorithm>

namespace amata::probes {

Result<std::unique_ptr<FilesystemProbe>> FilesystemProbe::create(int object,
                                                                 const catalog::ObjectSpec& spec,
                                                                 ProbeContext& ctx) {
  if (spec.path.empty() || spec.path[0] != '/') {
    return Error{"object " + spec.name + ": filesystem needs an absolute path"};
  }
  std::unique_ptr<FilesystemProbe> p(new FilesystemProbe(object, spec, ctx));
  char real[PATH_MAX];
  p->path_ = realpath(spec.path.c_str(), real) != nullptr ? std::string(real) : spec.path;
  auto diskstats = ProcFile::open(ctx.options.proc_root + "/diskstats", -100, 8192);
  if (diskstats) p->diskstats_ = std::move(*diskstats);
  p->resolve_device();
  return p;
}

void FilesystemProbe::resolve_device() {
  // Done once (and retried while it fails): the mount table is read at setup, not per poll.
  auto mountinfo = read_small_file(ctx_.options.proc_root + "/self/mountinfo", 1 << 20);
  if (!mountinfo) return;
  auto mount = find_mount(*mountinfo, path_);
  if (!mount) return;
  resolved_ = true;
  major_ = mount->major;
  minor_ = mount->minor;
  if (!diskstats_.is_open()) return;
  auto text = diskstats_.read();
  if (!text) return;
  if (auto d = find_diskstats(*text, major_, minor_)) {
    device_ = std::string(d->name);
    return;
  }
  // btrfs and some others report an anonymous device: fall back to the mount source,
  // following /dev/mapper and /dev/root symlinks to the kernel's name.
  if (mount->source.rfind("/dev/", 0) == 0) {
    char real[PATH_MAX];
    std::string source =
        realpath(mount->source.c_str(), real) != nullptr ? std::string(real) : mount->source;
    std::string name = source.substr(source.rfind('/') + 1);
    if (auto d = find_diskstats(*text, 0, 0, name)) {
      device_ = name;
      major_ = d->major;
      minor_ = d->minor;
    }
  }
}

void FilesystemProbe::poll() {
  MeasurementSink& sink = ctx_.sink;
  int o = object();
  struct statvfs vfs {};
  if (statvfs(path_.c_str(), &vfs) == 0 && vfs.f_blocks > 0) {
    double frsize = static_cast<double>(vfs.f_frsize ? vfs.f_frsize : vfs.f_bsize);
    double used_blocks = static_cast<double>(vfs.f_blocks - std::min(vfs.f_bfree, vfs.f_blocks));
    // Like df: percent of what non-root users can have (used + available).
    double usable = used_blocks + static_cast<double>(vfs.f_bavail);
    sink.set_number(o, "used", usable > 0 ? used_blocks / usable * 100.0 : 0);
    sink.set_number(o, "free", static_cast<double>(vfs.f_bavail) * frsize);
    sink.set_number(o, "size", static_cast<double>(vfs.f_blocks) * frsize);
    double inodes = 0;
    if (vfs.f_files > 0) {
      inodes = static_cast<double>(vfs.f_files - std::min(vfs.f_ffree, vfs.f_files)) /
               static_cast<double>(vfs.f_files) * 100.0;
    }
    sink.set_number(o, "inodes", inodes);
    sink.set_number(o, "readonly", (vfs.f_flag & ST_RDONLY) ? 1 : 0);
  } else {
    for (const char* a : {"used", "free", "size", "inodes", "readonly"}) {
      sink.set_number(o, a, kUnknown);
    }
  }
  if (!resolved_) resolve_device();
  double read_rate = kUnknown, write_rate = kUnknown, busy = kUnknown;
  if (!device_.empty() && diskstats_.is_open()) {
    std::optional<DiskStats> d;
    if (auto text = diskstats_.read()) d = find_diskstats(*text, major_, minor_);
    double now = base::monotonic_now();
    if (d && have_prev_ && now > prev_time_) {
      double dt = now - prev_time_;
      if (d->sectors_read >= prev_.sectors_read && d->sectors_written >= prev_.sectors_written) {
        read_rate = static_cast<double>(d->sectors_read - prev_.sectors_read) * 512.0 / dt;
        write_rate = static_cast<double>(d->sectors_written - prev_.sectors_written) * 512.0 / dt;
      }
      if (d->has_io_ticks && d->io_ticks_ms >= prev_.io_ticks_ms) {
        busy = std::min(
            100.0, static_cast<double>(d->io_ticks_ms - prev_.io_ticks_ms) / (dt * 1000.0) * 100.0);
      }
    }
    if (d) {
      prev_ = *d;
      prev_.name = {};  // points into the read buffer; not needed later
      prev_time_ = now;
      have_prev_ = true;
    }
  }
  sink.set_number(o, "read_rate", read_rate);
  sink.set_number(o, "write_rate", write_rate);
  sink.set_number(o, "busy", busy);
  sink.sampled(o);
}

}  // namespace amata::probes
