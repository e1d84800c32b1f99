#!/usr/bin/env python3
"""bench/cpu.py's results as an SVG bar chart: each benchmark's speed relative to QEMU TCG.

Reads the file `bench/cpu.py --json FILE` wrote and draws, per benchmark, one bar for each of
the jit, the interpreter and native: QEMU's time per op over that column's (above 1 the column
is faster than QEMU), on a log scale centred on QEMU, with the group's geometric mean last.
The CPU-bound benchmarks by default; --all adds the memory-bound and system ones. Hand-written
SVG, as bench/full-vs-para's, so nothing beyond Python is needed.

  bench/cpu_plot.py RESULTS.json [-o docs/jit.svg] [--all]
"""

import argparse
import html
import json
import math
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The columns drawn, in order, against QEMU's.
BARS = (("jit", "Vessel jit", "#4f81bd"), ("interp", "Vessel interp", "#c0504d"),
        ("native", "native", "#9bbb59"))
KIND_NAMES = {"cpu": "CPU-bound", "memory": "memory-bound", "system": "system"}


def speeds(results, kinds):
    """[(name, {column: speed over QEMU or None}, is_geomean)] for the benchmarks of `kinds`,
    each kind followed by its geometric mean."""
    medians = results["medians_ns_per_op"]
    rows = []
    for kind in kinds:
        members = [b for b in results["benchmarks"] if results["kinds"].get(b) == kind]
        if not members:
            continue
        per_bench = []
        for b in members:
            times = medians.get(b, {})
            qemu = times.get("qemu")
            per_bench.append((b, {c: qemu / times[c] if qemu and times.get(c) else None
                                  for c, _, _ in BARS}))
        rows += [(b, s, False) for b, s in per_bench]
        # Over the benchmarks measured, as cpu.py's own geomeans, so the figures agree.
        means = {c: geomean([s[c] for _, s in per_bench]) for c, _, _ in BARS}
        rows.append((f"geomean ({KIND_NAMES.get(kind, kind)})", means, True))
    return rows


def geomean(values):
    values = [v for v in values if v]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def ticks(low, high):
    """The log-scale gridlines ..., 0.1, 0.3, 1, 3, 10, ... from the last one at or below
    `low` to the first one at or above `high`."""
    grid = [m * 10.0 ** e for e in range(-6, 7) for m in (1, 3)]
    first = max(v for v in grid if v <= low * 1.0001)
    last = min(v for v in grid if v >= high / 1.0001)
    return [v for v in grid if first <= v <= last]


def ratio_text(v):
    if v >= 10:
        return f"{v:.1f}x"
    return f"{v:.2f}x" if v >= 0.1 else f"{v:.3f}x"


def tick_text(v):
    return f"{v:g}x"


def write_svg(path, results, rows, columns):
    values = [s[c] for _, s, _ in rows for c in columns if s[c]]
    if not values:
        raise ValueError("no benchmark has both a QEMU figure and one of jit, interp or native")
    # The axis: from the gridline below the smallest value (or 1x, QEMU) to the one above
    # the largest.
    grid = ticks(min(values + [1.0]), max(values + [1.0]))
    low, high = grid[0], grid[-1]
    width, label_w, top = 760, 150, 96
    x0, x1 = label_w + 56, width - 64  # room for the value labels on either side of the bars
    bar_h, row_h, group_gap = 11, 14, 12
    groups_h = sum(row_h * len(columns) + group_gap for _ in rows)
    height = top + groups_h + 56

    def x_of(v):
        return x0 + (math.log10(v) - math.log10(low)) / (math.log10(high) - math.log10(low)) * (
            x1 - x0)

    host = results.get("host", {})
    commit = host.get("vessel_commit")
    about = ", ".join(p for p in (
        results.get("date", "")[:10],
        f"vessel {commit}" if commit else "",
        f"{host.get('cpu', '')} ({host.get('cpus')} CPUs)" if host.get("cpu") else "",
        host.get("qemu", "").replace("QEMU emulator version", "QEMU"),
        f"median of {results.get('runs')} round(s), {results.get('seconds', 0):g} s each")
        if p)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           '<text x="20" y="26" font-size="16" font-weight="bold">Vessel CPU benchmarks: '
           'speed relative to QEMU TCG</text>',
           f'<text x="20" y="44" fill="#555">{html.escape(about)}</text>',
           '<text x="20" y="60" fill="#555">QEMU\'s time per op over each column\'s, log scale: '
           'right of the 1x line is faster than QEMU</text>']
    lx = 20
    for c, label, color in BARS:
        if c in columns:
            out.append(f'<rect x="{lx}" y="70" width="12" height="12" fill="{color}"/>')
            out.append(f'<text x="{lx + 17}" y="80">{html.escape(label)}</text>')
            lx += 30 + 7 * len(label)
    plot_top, plot_bottom = top - 6, top + groups_h - group_gap + 6
    for v in grid:
        x = x_of(v)
        stroke = 'stroke="#444" stroke-width="1.5"' if abs(v - 1) < 1e-9 else 'stroke="#ddd"'
        out.append(f'<line x1="{x:.1f}" y1="{plot_top}" x2="{x:.1f}" y2="{plot_bottom}" '
                   f'{stroke}/>')
        out.append(f'<text x="{x:.1f}" y="{plot_bottom + 14}" text-anchor="middle" '
                   f'fill="#555">{tick_text(v)}</text>')
    out.append(f'<text x="{x_of(1.0):.1f}" y="{plot_top - 4}" text-anchor="middle" '
               'fill="#444">QEMU</text>')
    y = top
    for name, s, is_mean in rows:
        group_h = row_h * len(columns)
        if is_mean:
            out.append(f'<line x1="20" y1="{y - group_gap / 2:.1f}" x2="{width - 20}" '
                       f'y2="{y - group_gap / 2:.1f}" stroke="#bbb" stroke-dasharray="3,3"/>')
        style = ' font-style="italic"' if is_mean else ""
        out.append(f'<text x="20" y="{y + group_h / 2 + 4:.1f}"{style}>{html.escape(name)}</text>')
        for i, c in enumerate(columns):
            by = y + i * row_h
            v = s[c]
            if not v:
                out.append(f'<text x="{x_of(1.0) + 4:.1f}" y="{by + 9}" font-size="10" '
                           'fill="#888">not measured</text>')
                continue
            one, end = x_of(1.0), x_of(v)
            left, w = min(one, end), max(1.0, abs(end - one))
            color = next(col for key, _, col in BARS if key == c)
            out.append(f'<rect x="{left:.1f}" y="{by}" width="{w:.1f}" height="{bar_h}" '
                       f'fill="{color}"/>')
            if v >= 1:
                out.append(f'<text x="{end + 4:.1f}" y="{by + 9}" font-size="10">'
                           f'{ratio_text(v)}</text>')
            else:
                out.append(f'<text x="{end - 4:.1f}" y="{by + 9}" font-size="10" '
                           f'text-anchor="end">{ratio_text(v)}</text>')
        y += group_h + group_gap
    notes = ["Figures: docs/jit.md; what each benchmark does: docs/cpu-bench.md"]
    if results.get("mismatches"):
        notes.insert(0, f"{len(results['mismatches'])} checksum mismatch(es) in this run: "
                        "see its report")
    for k, note in enumerate(notes):
        out.append(f'<text x="20" y="{height - 14 - 16 * (len(notes) - 1 - k)}" '
                   f'fill="#555">{html.escape(note)}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="the JSON file bench/cpu.py --json wrote")
    parser.add_argument("-o", "--output", default=os.path.join(REPO, "docs", "jit.svg"),
                        help="where the SVG goes (default: docs/jit.svg)")
    parser.add_argument("--all", action="store_true",
                        help="the memory-bound and system benchmarks too")
    args = parser.parse_args()
    try:
        with open(args.results) as f:
            results = json.load(f)
    except (OSError, ValueError) as error:
        sys.exit(f"cpu_plot.py: {args.results}: {error}")
    if not isinstance(results, dict) or not all(
            k in results for k in ("benchmarks", "kinds", "medians_ns_per_op")):
        sys.exit(f"cpu_plot.py: {args.results}: not bench/cpu.py --json output "
                 "(no benchmarks, kinds or medians_ns_per_op)")
    present = set(results.get("columns", {})) or {
        c for times in results["medians_ns_per_op"].values() for c in times}
    if "qemu" not in present:
        sys.exit(f"cpu_plot.py: {args.results}: no qemu column to compare with "
                 "(run bench/cpu.py without --no-qemu)")
    columns = [c for c, _, _ in BARS if c in present]
    if not columns:
        sys.exit(f"cpu_plot.py: {args.results}: no jit, interp or native column")
    rows = speeds(results, ("cpu", "memory", "system") if args.all else ("cpu",))
    if not rows:
        sys.exit(f"cpu_plot.py: {args.results}: no "
                 f"{'' if args.all else 'CPU-bound '}benchmark in it")
    try:
        write_svg(args.output, results, rows, columns)
    except (OSError, ValueError) as error:
        sys.exit(f"cpu_plot.py: {args.output}: {error}")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
