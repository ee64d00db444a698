#!/usr/bin/python3
"""Plots of bench/compare/storm.py's and hang.py's results (Debian's python3-matplotlib).

    /usr/bin/python3 bench/compare/plot_recovery.py --storm build/rel/storm/results.json \\
      --hang build/rel/hang/results.json --out docs/img

Writes storm_<condition>.png (per load condition in the storm results: for each supervisor,
the fraction of the 100 services forked, running and accepting against the time since the
kill, all repetitions pooled, with the physical bound) and hang.png (per tool, each
repetition's stop -> new process running and stop -> answering, with the goal).

--storm may be given more than once: a later file's cells replace an earlier one's of the
same tool and condition (docs/benchmarks.md takes amata's rows from a second storm.py run
with --tools amata,amata-noboost). Medians are compare.py's nearest-rank ones, as in the
reports' tables; the script prints them.
"""

import argparse
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside compare.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import percentile  # noqa: E402  (the tables' median)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter  # noqa: E402

STORM_TOOLS = ["amata", "amata-noboost", "monit-process", "supervisord"]
HANG_TOOLS = ["amata", "monit"]
LABELS = {"amata": "amata", "amata-noboost": "amata, no boost", "monit-process": "Monit",
          "monit": "Monit", "supervisord": "supervisord"}
COLORS = {"amata": "#1b7837", "amata-noboost": "#7fbf7b", "monit-process": "#2166ac",
          "monit": "#2166ac", "supervisord": "#b2182b"}
STYLES = {"amata-noboost": "--"}
# What each stamp is (storm.py's docstring).
STAGES = [("forked", "forked", "the supervisor's fork"),
          ("running", "running", "the service's main()"),
          ("accepting", "accepting", "first successful connect")]
FIG = dict(figsize=(8, 4.5), dpi=100)


def median(values):
    v = sorted(x for x in values if x is not None)
    return percentile(v, 50) if v else None


def ms_label(x, _pos=None):
    return f"{x / 1000:g} s" if x >= 1000 else f"{x:g} ms"


def when(results_list):
    """'2026-12-05, commit 5110fbd' from the runs' machine records (joined if they differ)."""
    days = sorted({r["machine"]["date_utc"].split()[0] for r in results_list})
    commits = sorted({r["machine"]["amata_commit"] for r in results_list})
    return f"{', '.join(days)}, commit {', '.join(commits)}"


# ---------------------------------------------------------------- the storm


def load_storm(paths):
    """The cells of all files, a later file's replacing an earlier one's (tool, condition)."""
    runs, cells = [], {}
    for path in paths:
        with open(path) as f:
            r = json.load(f)
        runs.append(r)
        for c in r["cells"]:
            cells[(c["tool"], c["condition"])] = (c, r, path)
    bounds = {r["bound_ms"] for r in runs}
    ns = {r["args"]["n"] for r in runs}
    if len(bounds) != 1 or len(ns) != 1:
        sys.exit(f"storm files disagree: bound {bounds} ms, n {ns}")
    return cells, runs


def condition_title(condition, run):
    if condition == "none":
        return "no load"
    if condition == "io":
        return f"I/O load (stress-ng --hdd {run['machine']['nproc']} --iomix 1)"
    return condition


def storm_plot(condition, cells, runs, out_dir, build):
    rows = [(t, cells[(t, condition)]) for t in STORM_TOOLS if (t, condition) in cells]
    run0 = rows[0][1][1]
    n, bound = run0["args"]["n"], run0["bound_ms"]
    reps = sorted({len(c["reps"]) for _, (c, _, _) in rows})
    used = [r for r in runs if any(r is rr for _, (_, rr, _) in rows)]
    fig, axes = plt.subplots(1, 3, sharex=True, sharey=True, **FIG)
    for ax, (key, name, what) in zip(axes, STAGES):
        for tool, (c, _, _) in rows:
            values = sorted(x for rep in c["reps"] for x in rep[key] if x is not None)
            if not values:
                ax.text(0.03, 0.97, f"{LABELS[tool]}: no stamp\n(its services daemonize)",
                        transform=ax.transAxes, fontsize=7, va="top", color=COLORS[tool])
                continue
            # Pooled over the repetitions: the mean over them of the fraction of the N done.
            total = sum(len(rep[key]) for rep in c["reps"])
            ys = [(i + 1) / total for i in range(len(values))]
            ax.step([values[0]] + values, [0] + ys, where="post", color=COLORS[tool],
                    linestyle=STYLES.get(tool, "-"), linewidth=1.4, label=LABELS[tool])
            last = median([rep[f"{key}_last"] for rep in c["reps"]])
            if last is not None:
                ax.plot([last], [1.0], marker="D", markersize=5, color=COLORS[tool],
                        markeredgecolor="black", markeredgewidth=0.5, clip_on=False,
                        zorder=5)
        ax.axvline(bound, color="gray", linestyle=":", linewidth=1.2,
                   label=f"physical bound ({bound / 1000:.1f} s)")
        ax.set_xscale("log")
        ax.set_xlim(1, 40000)
        ax.set_ylim(0, 1.0)
        ax.xaxis.set_major_locator(FixedLocator([1, 10, 100, 1000, 10000]))
        ax.xaxis.set_major_formatter(FuncFormatter(ms_label))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.tick_params(labelsize=8)
        ax.set_title(f"{name}\n({what})", fontsize=9)
        ax.grid(which="major", alpha=0.3)
    axes[0].set_ylabel(f"fraction of the {n} services\n(mean of the repetitions)", fontsize=9)
    axes[1].set_xlabel("time since the kill (log scale)", fontsize=9)
    handles, labels = axes[2].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], marker="D", linestyle="", color="white",
                              markeredgecolor="black", markeredgewidth=0.5))
    labels.append(f"median of the last of the {n} (the table)")
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle(f"Restart storm: {n} services SIGKILLed at once, "
                 f"{condition_title(condition, run0)}"
                 f"\n{'/'.join(map(str, reps))} repetitions per supervisor, {when(used)}, {build}",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.10, 1, 1))
    path = os.path.join(out_dir, f"storm_{condition}.png")
    fig.savefig(path)
    plt.close(fig)
    for tool, (c, _, src) in rows:
        m = {k: median([rep[f"{k}_last"] for rep in c["reps"]]) for k, _, _ in STAGES}
        print(f"storm {condition:4} {LABELS[tool]:16} last forked / running / accepting, median "
              + " / ".join("–" if v is None else f"{v:.0f}" for v in m.values())
              + f" ms; accepting / bound {m['accepting'] / bound:.2f} ({src})")
    return path


# ---------------------------------------------------------------- the hang


def hang_plot(path_in, out_dir, goal_ms, build):
    with open(path_in) as f:
        r = json.load(f)
    tools = [t for name in HANG_TOOLS for t in r["tools"] if t["tool"] == name]
    reps = sorted({len(t["samples"]) for t in tools})
    metrics = [("running_ms", "new process running", "o"), ("answering_ms", "answering", "s")]
    fig, ax = plt.subplots(**FIG)
    ticks, ticklabels = [], []
    for ti, t in enumerate(tools):
        for mi, (key, name, marker) in enumerate(metrics):
            x0 = ti * 2.8 + mi * 1.2
            values = [s[key] for s in t["samples"]]
            k = len(values)
            xs = [x0 + (i - (k - 1) / 2) * 0.035 for i in range(k)]
            ok = [(x, v) for x, v in zip(xs, values) if v is not None]
            ax.scatter([x for x, _ in ok], [v for _, v in ok], marker=marker, s=22,
                       color=COLORS[t["tool"]], alpha=0.85, zorder=3,
                       facecolors=COLORS[t["tool"]] if mi == 0 else "none")
            m = median(values)
            ax.plot([x0 - 0.24, x0 + 0.24], [m, m], color="black", linewidth=1.2, zorder=4)
            ax.annotate(f"median {m:.0f}\nmax {max(v for _, v in ok):.0f}", (x0 + 0.28, m),
                        fontsize=7, va="center", linespacing=1.6)
            if k - len(ok):
                ax.annotate(f"{k - len(ok)} never", (x0, 0), fontsize=7, ha="center")
            ticks.append(x0)
            ticklabels.append(f"{LABELS[t['tool']]}\nstop → {name}")
            print(f"hang {LABELS[t['tool']]:6} stop -> {name:20} median {m:.0f} / max "
                  f"{max(v for _, v in ok):.0f} ms ({len(ok)} of {k})")
    ax.axhline(goal_ms, color="gray", linestyle="--", linewidth=1.2,
               label=f"amata's goal for stop → running: {goal_ms / 1000:.2f} s "
                     "(health interval × 2 + timeout + 20 ms)")
    ax.set_xticks(ticks)
    ax.set_xticklabels(ticklabels, fontsize=8)
    ax.set_xlim(-0.6, (len(tools) - 1) * 2.8 + 2.0)
    ax.set_ylim(0, max(7000, 1.12 * max(s[k] for t in tools for s in t["samples"]
                                        for k, _, _ in metrics if s[k] is not None)))
    ax.set_ylabel("ms since the SIGSTOP")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("A hung service (SIGSTOP), found by an HTTP health check: "
                 f"{'/'.join(map(str, reps))} repetitions per tool\n"
                 f"{when([r])}, {build}; dots: repetitions, bar: median", fontsize=10)
    fig.tight_layout()
    path = os.path.join(out_dir, "hang.png")
    fig.savefig(path)
    plt.close(fig)
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--storm", action="append", default=[], metavar="RESULTS_JSON",
                   help="storm.py's results.json (repeatable: later files' cells replace "
                        "earlier ones' of the same tool and condition)")
    p.add_argument("--hang", metavar="RESULTS_JSON", help="hang.py's results.json")
    p.add_argument("--out", default="docs/img", help="directory for the PNGs")
    p.add_argument("--goal-ms", type=float, default=1520,
                   help="amata's goal for stop -> running in the hang (docs/benchmarks.md)")
    p.add_argument("--build", default="release build", help="the build, for the titles")
    args = p.parse_args()
    if not args.storm and not args.hang:
        p.error("nothing to plot: give --storm and/or --hang")
    os.makedirs(args.out, exist_ok=True)
    if args.storm:
        cells, runs = load_storm(args.storm)
        for condition in ["none", "cpu", "io"]:
            if any(c == condition for _, c in cells):
                print(storm_plot(condition, cells, runs, args.out, args.build))
    if args.hang:
        print(hang_plot(args.hang, args.out, args.goal_ms, args.build))
    return 0


if __name__ == "__main__":
    sys.exit(main())
