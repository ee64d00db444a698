#!/usr/bin/python3
"""Plots of bench/compare/compare.py's results (Debian's python3-matplotlib).

    /usr/bin/python3 bench/compare/plot.py OUT/results.json docs/img

Writes compare_<condition>.png (box plots of kill -> running per tool and number of
services, log scale) and compare_cdf.png (distribution of kill -> accepting, 1-3 services,
one panel per condition).
"""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TOOLS = ["amata", "monit-process", "monit-port", "supervisord"]
COLORS = {"amata": "#1b7837", "monit-process": "#2166ac", "monit-port": "#67a9cf",
          "supervisord": "#b2182b"}
PAPER_SECONDS = {"none": {1: 3.960, 3: 4.794}, "cpu": {1: 12.782, 3: 19.458},
                 "io": {1: 6.840, 3: 16.249}}
CONDITION_TITLE = {"none": "no load", "cpu": "CPU load (stress-ng --cpu 2×nproc)",
                   "io": "I/O load (stress-ng --hdd, --iomix)"}


def samples(cell, index):
    return [s[index] for rep in cell["reps"] for s in rep if s[index] is not None]


def box_plot(cells, condition, out_dir):
    tools = [t for t in TOOLS if any(c["tool"] == t for c in cells)]
    ns = sorted({c["n"] for c in cells})
    fig, ax = plt.subplots(figsize=(10, 5.2), dpi=110)
    width = 0.8 / max(1, len(tools))
    for ti, tool in enumerate(tools):
        data, pos = [], []
        for ni, n in enumerate(ns):
            cell = next((c for c in cells if c["tool"] == tool and c["n"] == n), None)
            values = samples(cell, 0) if cell else []
            if values:
                data.append(values)
                pos.append(ni + (ti - (len(tools) - 1) / 2) * width)
        if not data:
            continue
        bp = ax.boxplot(data, positions=pos, widths=width * 0.85, whis=(0, 100),
                        patch_artist=True, showfliers=False, manage_ticks=False)
        for box in bp["boxes"]:
            box.set_facecolor(COLORS[tool])
            box.set_alpha(0.75)
        for median in bp["medians"]:
            median.set_color("black")
        ax.plot([], [], color=COLORS[tool], linewidth=8, alpha=0.75, label=tool)
    ax.set_yscale("log")
    ax.set_xticks(range(len(ns)))
    ax.set_xticklabels([f"{n} service{'s' if n > 1 else ''}" for n in ns])
    ax.set_ylabel("kill → new process running (ms, log scale)")
    ax.set_title(f"Recovery after SIGKILL of all services at once — {CONDITION_TITLE[condition]}\n"
                 "box: quartiles, whiskers: min–max, line: median")
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    path = os.path.join(out_dir, f"compare_{condition}.png")
    fig.savefig(path)
    plt.close(fig)
    return path


def cdf_plot(results, out_dir):
    conditions = [c for c in ["none", "cpu", "io"]
                  if any(x["condition"] == c for x in results["cells"])]
    fig, axes = plt.subplots(1, len(conditions), figsize=(5 * len(conditions), 4.4), dpi=110,
                             sharey=True, squeeze=False)
    for ax, condition in zip(axes[0], conditions):
        for tool in TOOLS:
            values = sorted(v for c in results["cells"]
                            if c["tool"] == tool and c["condition"] == condition and c["n"] <= 3
                            for v in samples(c, 1))
            if not values:
                continue
            ys = [(i + 1) / len(values) for i in range(len(values))]
            ax.step(values, ys, where="post", color=COLORS[tool], label=tool)
        # The paper's recovery times for 1 and 3 services under this condition.
        for n, style in ((1, "--"), (3, ":")):
            paper_ms = PAPER_SECONDS[condition][n] * 1000
            ax.axvline(paper_ms, color="gray", linestyle=style,
                       label=f"paper (2002), {n} service{'s' if n > 1 else ''}")
        ax.set_xscale("log")
        ax.set_xlabel("kill → accepting TCP (ms, log scale)")
        ax.set_title(CONDITION_TITLE[condition], fontsize=10)
        ax.grid(which="both", alpha=0.3)
    axes[0][0].set_ylabel("fraction of services recovered (1–3 services)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    path = os.path.join(out_dir, "compare_cdf.png")
    fig.savefig(path)
    plt.close(fig)
    return path


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        results = json.load(f)
    os.makedirs(sys.argv[2], exist_ok=True)
    for condition in ["none", "cpu", "io"]:
        cells = [c for c in results["cells"] if c["condition"] == condition]
        if cells:
            print(box_plot(cells, condition, sys.argv[2]))
    print(cdf_plot(results, sys.argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
