#include "probes/node_probe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace amata::probes {

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
  return p;
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
  sink.sampled(o);
}

}  // namespace amata::probes
