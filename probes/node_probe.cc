#include "probes/node_probe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace amata::probes {
namespace {

constexpr const char* kPressureFiles[] = {"pressure/cpu", "pressure/memory", "pressure/io"};
// The attributes of each resource: some avg10/60/300, some total, then the same for full.
constexpr std::string_view kPsiAttributes[][8] = {
    {"psi.cpu.some10", "psi.cpu.some60", "psi.cpu.some300", "psi.cpu.some_total", "psi.cpu.full10",
     "psi.cpu.full60", "psi.cpu.full300", "psi.cpu.full_total"},
    {"psi.memory.some10", "psi.memory.some60", "psi.memory.some300", "psi.memory.some_total",
     "psi.memory.full10", "psi.memory.full60", "psi.memory.full300", "psi.memory.full_total"},
    {"psi.io.some10", "psi.io.some60", "psi.io.some300", "psi.io.some_total", "psi.io.full10",
     "psi.io.full60", "psi.io.full300", "psi.io.full_total"},
};

void write_stall(MeasurementSink& sink, int o, const std::string_view* names,
                 const StallLine* line) {
  sink.set_number(o, names[0], line ? line->avg10 : kUnknown);
  sink.set_number(o, names[1], line ? line->avg60 : kUnknown);
  sink.set_number(o, names[2], line ? line->avg300 : kUnknown);
  sink.set_number(o, names[3], line ? static_cast<double>(line->total_us) / 1e6 : kUnknown);
}

}  // namespace

Result<std::unique_ptr<NodeProbe>> NodeProbe::create(int object, const catalog::ObjectSpec& spec,
                                                     ProbeContext& ctx) {
  std::unique_ptr<NodeProbe> p(new NodeProbe(object, spec, ctx));
  const std::string& root = ctx.options.proc_root;
  p->proc_fd_ = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (p->proc_fd_ < 0) return errno_error("open " + root, errno);
  struct Want {
    ProcFile* file;
    const char* path;
    std::size_t capacity;
  };
  // /proc/stat has a line per CPU and per interrupt source: start big enough for that.
  for (Want w : {Want{&p->stat_, "stat", 16384}, Want{&p->meminfo_, "meminfo", 4096},
                 Want{&p->loadavg_, "loadavg", 128}, Want{&p->uptime_, "uptime", 128},
                 Want{&p->file_nr_, "sys/fs/file-nr", 128}}) {
    auto f = ProcFile::open(w.path, p->proc_fd_, w.capacity);
    if (!f) return f.error();
    *w.file = std::move(*f);
  }
  // Kernels before 4.13 have no oom_kill line, before 4.20 no PSI, and PSI can be off at
  // boot (psi=0): what is missing is unknown, not an error.
  if (auto f = ProcFile::open("vmstat", p->proc_fd_, 8192)) p->vmstat_ = std::move(*f);
  p->open_pressure();
  return p;
}

void NodeProbe::open_pressure() {
  for (int r = 0; r < kResources; ++r) {
    if (auto f = ProcFile::open(kPressureFiles[r], proc_fd_, 256)) pressure_[r] = std::move(*f);
  }
  // Triggers for memory and I/O, where a stall is the sign of trouble; CPU pressure is what a
  // busy machine always has, and polling it is enough. Triggers live only on the real procfs.
  if (ctx_.options.proc_root != "/proc") return;
  for (int r = 1; r < kResources; ++r) {
    if (!pressure_[r].is_open()) continue;
    auto trigger = PsiTrigger::open(ctx_.loop, "/proc/" + std::string(kPressureFiles[r]),
                                    kPsiStallUs, kPsiWindowUs, [this](std::uint32_t) {
                                      read_pressure();
                                      ctx_.sink.changed(object());
                                    });
    if (trigger) {
      triggers_[r] = std::move(*trigger);
    } else {
      ctx_.sink.notice(object(),
                       "pressure stalls are polled, not event-driven: " + trigger.error().message);
      return;
    }
  }
}

int NodeProbe::psi_triggers() const {
  int armed = 0;
  for (const auto& t : triggers_) armed += t.armed() ? 1 : 0;
  return armed;
}

void NodeProbe::read_pressure() {
  MeasurementSink& sink = ctx_.sink;
  for (int r = 0; r < kResources; ++r) {
    std::optional<Pressure> p;
    if (pressure_[r].is_open()) {
      if (auto text = pressure_[r].read()) p = parse_pressure(*text);
    }
    write_stall(sink, object(), kPsiAttributes[r], p ? &p->some : nullptr);
    write_stall(sink, object(), kPsiAttributes[r] + 4, p && p->full ? &*p->full : nullptr);
  }
}

NodeProbe::~NodeProbe() {
  if (proc_fd_ >= 0) ::close(proc_fd_);
}

void NodeProbe::poll() {
  MeasurementSink& sink = ctx_.sink;
  int o = object();
  std::optional<CpuTimes> cpu;
  if (auto text = stat_.read()) cpu = parse_proc_stat_cpu(*text);
  std::optional<CpuPercent> pct;
  if (cpu && have_prev_) pct = cpu_percent(prev_, *cpu);
  sink.set_number(o, "cpu", pct ? pct->busy : kUnknown);
  sink.set_number(o, "cpu_user", pct ? pct->user : kUnknown);
  sink.set_number(o, "cpu_system", pct ? pct->system : kUnknown);
  // Kernels without the iowait/steal columns report nothing there: unknown, not zero.
  sink.set_number(o, "cpu_iowait", pct && cpu->columns >= 5 ? pct->iowait : kUnknown);
  sink.set_number(o, "cpu_steal", pct && cpu->columns >= 8 ? pct->steal : kUnknown);
  // Keep the older sample when no tick passed, so the next delta is not empty.
  if (cpu && (!have_prev_ || pct)) {
    prev_ = *cpu;
    have_prev_ = true;
  }

  std::optional<LoadAvg> load;
  if (auto text = loadavg_.read()) load = parse_loadavg(*text);
  sink.set_number(o, "load1", load ? load->load1 : kUnknown);
  sink.set_number(o, "load5", load ? load->load5 : kUnknown);
  sink.set_number(o, "load15", load ? load->load15 : kUnknown);

  std::optional<MemInfo> mem;
  if (auto text = meminfo_.read()) mem = parse_meminfo(*text);
  if (mem && mem->total > 0) {
    double used = static_cast<double>(mem->total - std::min(mem->available, mem->total));
    sink.set_number(o, "mem_used", used);
    sink.set_number(o, "mem_available", static_cast<double>(mem->available));
    sink.set_number(o, "mem", used / static_cast<double>(mem->total) * 100.0);
    double swap = 0;
    if (mem->swap_total > 0) {
      swap = static_cast<double>(mem->swap_total - std::min(mem->swap_free, mem->swap_total)) /
             static_cast<double>(mem->swap_total) * 100.0;
    }
    sink.set_number(o, "swap", swap);
  } else {
    for (const char* a : {"mem_used", "mem_available", "mem", "swap"})
      sink.set_number(o, a, kUnknown);
  }

  std::optional<double> uptime;
  if (auto text = uptime_.read()) uptime = parse_uptime(*text);
  sink.set_number(o, "uptime", uptime ? *uptime : kUnknown);

  auto procs = count_dir_entries(proc_fd_, true);
  sink.set_number(o, "procs", procs ? static_cast<double>(*procs) : kUnknown);

  std::optional<std::uint64_t> files;
  if (auto text = file_nr_.read()) files = parse_file_nr(*text);
  sink.set_number(o, "open_files", files ? static_cast<double>(*files) : kUnknown);

  std::optional<std::uint64_t> oom_kills;
  if (vmstat_.is_open()) {
    if (auto text = vmstat_.read()) oom_kills = find_vmstat_counter(*text, "oom_kill");
  }
  sink.set_number(o, "oom_kills", oom_kills ? static_cast<double>(*oom_kills) : kUnknown);
  read_pressure();
  sink.sampled(o);
}

}  // namespace amata::probes
