// libFuzzer target: every procfs parser on arbitrary bytes. The kernel's formats vary and a
// parser must never crash or read out of bounds on a file it does not expect.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/proc_stat.h"
#include "probes/oom_reports.h"
#include "probes/pressure.h"
#include "probes/procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace amata::probes;
  namespace base = amata::base;
  if (auto a = parse_proc_stat_cpu(text)) {
    (void)a->total();
    if (auto b = parse_proc_stat_cpu(text.substr(size / 2))) (void)cpu_percent(*a, *b);
  }
  (void)parse_meminfo(text);
  (void)parse_loadavg(text);
  (void)parse_uptime(text);
  (void)parse_file_nr(text);
  if (auto s = base::parse_pid_stat(text)) {
    // comm must lie inside the input.
    if (s->comm.data() < text.data() || s->comm.data() + s->comm.size() > text.data() + size) {
      __builtin_trap();
    }
  }
  (void)parse_pid_io(text);
  (void)count_pids(text);
  std::string line;
  cmdline_to_string(text, line);
  (void)parse_pidfile(text);
  (void)find_diskstats(text, 8, 0);
  (void)find_diskstats(text, 0, 0, "sda");
  (void)find_mount(text, "/var/lib/x y");
  if (auto p = parse_pressure(text)) {
    if (!(p->some.avg10 >= 0 && p->some.avg10 <= 100)) __builtin_trap();
  }
  (void)find_vmstat_counter(text, "oom_kill");
  if (auto kill = parse_oom_kill_record(text); kill && kill->pid <= 0) __builtin_trap();
  (void)parse_kmsg_sequence(text);
  return 0;
}
