#include "probes/ecc_probe.h"

#include "probes/sysfs_files.h"
#include "probes/sysfs_parse.h"

namespace amata::probes {
namespace {

constexpr double kMiB = 1048576.0;

/// "dimm3", "rank12": a per-DIMM (or per-rank) directory of a controller.
bool is_dimm_dir(const std::string& name) {
  if (name.rfind("dimm", 0) != 0 && name.rfind("rank", 0) != 0) return false;
  if (name.size() == 4) return false;
  for (std::size_t i = 4; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
  }
  return true;
}

bool plain_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

}  // namespace

Result<std::unique_ptr<EccProbe>> EccProbe::create(int object, const catalog::ObjectSpec& spec,
                                                   ProbeContext& ctx) {
  if (!plain_name(spec.controller)) {
    return Error{"object " + spec.name + ": ecc needs a `controller` such as \"mc0\""};
  }
  std::unique_ptr<EccProbe> p(new EccProbe(object, spec, ctx));
  p->resolve();
  return p;
}

bool EccProbe::resolve() {
  forget();
  const std::string dir = ctx_.options.sys_root + "/devices/system/edac/mc/" + spec().controller;
  ProcFile ce = open_attribute(dir + "/ce_count");
  std::string missing = "memory controller " + dir;
  if (ce.is_open() && !spec().dimm.empty()) {
    std::vector<std::string> matches;
    std::vector<std::string> entries = list_directory(dir);
    // A directory name is exact; a label may name several ranks of one DIMM.
    for (const std::string& entry : entries) {
      if (is_dimm_dir(entry) && entry == spec().dimm) matches.push_back(entry);
    }
    if (matches.empty()) {
      for (const std::string& entry : entries) {
        if (is_dimm_dir(entry) &&
            read_attribute(dir + "/" + entry + "/dimm_label") == spec().dimm) {
          matches.push_back(entry);
        }
      }
    }
    for (const std::string& entry : matches) {
      std::string rank = dir + "/" + entry;
      ranks_.push_back(Rank{open_attribute(rank + "/dimm_ce_count"),
                            open_attribute(rank + "/dimm_ue_count"),
                            open_attribute(rank + "/size")});
    }
    missing = "DIMM '" + spec().dimm + "' (a dimm*/rank* directory or dimm_label) in " + dir;
  }
  if (!ce.is_open() || (!spec().dimm.empty() && ranks_.empty())) {
    ranks_.clear();
    if (!noticed_) {
      noticed_ = true;
      ctx_.sink.notice(object(),
                       "ecc " + spec().name + ": no " + missing + "; unknown until it appears");
    }
    return false;
  }
  ce_ = std::move(ce);
  ue_ = open_attribute(dir + "/ue_count");
  ce_noinfo_ = open_attribute(dir + "/ce_noinfo_count");
  ue_noinfo_ = open_attribute(dir + "/ue_noinfo_count");
  size_mb_ = open_attribute(dir + "/size_mb");
  source_ = dir;
  noticed_ = false;
  return true;
}

void EccProbe::forget() {
  for (ProcFile* f : {&ce_, &ue_, &ce_noinfo_, &ue_noinfo_, &size_mb_}) f->close();
  ranks_.clear();
  source_.clear();
}

void EccProbe::write(double ce, double ue, double ce_noinfo, double ue_noinfo, double size) {
  MeasurementSink& sink = ctx_.sink;
  sink.set_number(object(), "ce_count", ce);
  sink.set_number(object(), "ue_count", ue);
  sink.set_number(object(), "ce_noinfo_count", ce_noinfo);
  sink.set_number(object(), "ue_noinfo_count", ue_noinfo);
  sink.set_number(object(), "size", size);
  sink.sampled(object());
}

void EccProbe::poll() {
  if (source_.empty() && !resolve()) {
    write(kUnknown, kUnknown, kUnknown, kUnknown, kUnknown);
    return;
  }
  std::optional<std::int64_t> ce = read_int(ce_);
  if (!ce && went_away(ce_, source_ + "/ce_count")) {
    // The EDAC driver was unloaded (or reloaded): find the controller again when it is back.
    ctx_.sink.notice(object(), "ecc " + spec().name + ": " + source_ + " went away");
    forget();
    write(kUnknown, kUnknown, kUnknown, kUnknown, kUnknown);
    return;
  }
  auto number = [](const std::optional<std::int64_t>& v) {
    return v && *v >= 0 ? static_cast<double>(*v) : kUnknown;
  };
  if (ranks_.empty()) {
    double size_mb = number(read_int(size_mb_));
    write(number(ce), number(read_int(ue_)), number(read_int(ce_noinfo_)),
          number(read_int(ue_noinfo_)), size_mb * kMiB);
    return;
  }
  // The DIMM's counts: the sum over its ranks, unknown when any rank's cannot be read.
  double dimm_ce = 0, dimm_ue = 0, size_mb = 0;
  for (Rank& rank : ranks_) {
    dimm_ce += number(read_int(rank.ce));
    dimm_ue += number(read_int(rank.ue));
    size_mb += number(read_int(rank.size_mb));
  }
  write(dimm_ce, dimm_ue, kUnknown, kUnknown, size_mb * kMiB);
}

}  // namespace amata::probes
