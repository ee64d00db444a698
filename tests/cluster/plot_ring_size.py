#!/usr/bin/python3
"""Plot of cluster_failover_bench --nodes ... --idle S (Debian's python3-matplotlib).

    /usr/bin/python3 tests/cluster/plot_ring_size.py RESULTS.json docs/img/ring_size.png

Three panels against the ring size: failover time (kill -9 of the owner -> a survivor accepts
connections, every run, and the median of its detection), idle CPU per node (corosync and the
node program) and resident memory per node. One line per node program.
"""

import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"amatad": "#1b7837", "cluster_node": "#762a83"}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    configs = [c for c in doc["configs"] if c["config"] == "tuned" and c["mode"] == "kill"]
    programs = sorted({c["program"] for c in configs})
    fig, (fail, cpu, rss) = plt.subplots(1, 3, figsize=(14, 4.2))
    for k, program in enumerate(programs):
        mine = sorted((c for c in configs if c["program"] == program), key=lambda c: c["nodes"])
        color = COLORS.get(program, "black")
        sizes = [c["nodes"] for c in mine]
        shift = (k - (len(programs) - 1) / 2) * 0.25
        for c in mine:
            totals = [r["total_ms"] for r in c["runs"]]
            fail.scatter([c["nodes"] * (1 + shift * 0.1)] * len(totals), totals, s=12,
                         color=color, alpha=0.6)
        fail.plot(sizes, [statistics.median(r["total_ms"] for r in c["runs"]) for c in mine],
                  color=color, label=f"{program}: total (median)")
        fail.plot(sizes, [statistics.median(r["detect_ms"] for r in c["runs"]
                                            if r["detect_ms"] >= 0) for c in mine],
                  color=color, linestyle=":", label=f"{program}: detect (median)")
        idle = [c for c in mine if c.get("idle")]
        isz = [c["nodes"] for c in idle]

        def mean(c, key):
            nodes = c["idle"]["nodes"]
            return sum(n[key] for n in nodes) / len(nodes)

        cpu.plot(isz, [mean(c, "node_cpu_percent") for c in idle], color=color, marker="o",
                 label=program)
        rss.plot(isz, [mean(c, "node_rss_mib") for c in idle], color=color, marker="o",
                 label=program)
        if k == 0:
            cpu.plot(isz, [mean(c, "corosync_cpu_percent") for c in idle], color="#b35806",
                     marker="s", label=f"corosync ({program}'s rings)")
            rss.plot(isz, [mean(c, "corosync_rss_mib") for c in idle], color="#b35806",
                     marker="s", label=f"corosync ({program}'s rings)")
    fail.axhline(1000, color="grey", linewidth=0.8, linestyle="--")
    fail.set_title("kill -9 of the owner → a survivor accepts")
    fail.set_ylabel("ms")
    cpu.set_title("idle CPU per node (mean)")
    cpu.set_ylabel("% of one core")
    rss.set_title("resident memory per node (mean)")
    rss.set_ylabel("MiB")
    # Log scales: the figures span two orders of magnitude (a bus that is quiet when idle
    # against one that publishes every 250 ms).
    fail.set_yscale("log")
    cpu.set_yscale("log")
    rss.set_ylim(bottom=0)
    for ax in (fail, cpu, rss):
        ax.set_xlabel("nodes in the ring")
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted({c["nodes"] for c in configs}))
        ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.get_yaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
