"""Plots of ``benchmarks/compare.py``'s results, and the JSON file that carries them.

compare.py measures rows of ``(workload, unit, {library: value})`` (a value is a time in
seconds or µs per read, or compare.py's ``(time, megabytes)`` pair). ``save_json`` writes
them with the run's versions and machine to a JSON file, ``load_json`` reads it back, and
``plot_rows`` draws one horizontal group of bars per workload: each library's time
divided by czarr's in that workload (czarr is 1; below 1 is faster than czarr), on a log
scale, because on a shared machine the ratios mean something and the seconds do not. The
ceiling rows (c-blosc decoding the same chunks, a memcpy of the same bytes) are drawn as
one more bar in the full-read workload they bound.

Run: ``python benchmarks/plot.py RESULTS.json OUT.png [OUT.svg ...]`` (matplotlib), or
``python benchmarks/compare.py --json RESULTS.json --plot DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

FORMAT = "czarr-compare-results/1"  # the "format" field of the JSON file
# bar order and colours (libraries not listed come after, in grey shades)
LIBRARIES = {
    "czarr": "#1f77b4",
    "zarr-python": "#ff7f0e",
    "zarrs": "#9467bd",
    "tensorstore": "#2ca02c",
    "h5py": "#d62728",
    "c-blosc": "#7f7f7f",
    "memcpy": "#bcbd22",
}
# legend labels: h5py has no Blosc filter without plugins, so compare.py stores it raw
LABELS = {"h5py": "h5py (uncompressed)", "c-blosc": "ceiling: c-blosc decode",
          "memcpy": "ceiling: memcpy"}

Row = tuple[str, str, dict[str, Any]]


def value_of(value: Any) -> float:
    """The time in a row's value: a number, compare.py's ``(time, MB)`` pair, or the
    ``{"value": time, "mb": MB}`` object of the JSON file."""
    if isinstance(value, dict):
        return float(value["value"])
    if isinstance(value, (tuple, list)):
        return float(value[0])
    return float(value)


def machine() -> str:
    """One line naming this machine: CPU model, cores, OS."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def save_json(rows: Sequence[Row], path: str | os.PathLike, versions: str = "",
              command: str = "") -> None:
    """Write compare.py's rows, with the versions, machine and command of the run."""
    out = {
        "format": FORMAT,
        "versions": versions,
        "machine": machine(),
        "command": command or " ".join(sys.argv),
        "rows": [
            {"workload": w, "unit": unit,
             "values": {lib: {"value": value_of(v),
                              "mb": v[1] if isinstance(v, (tuple, list)) else None}
                        for lib, v in vals.items()}}
            for w, unit, vals in rows
        ],
    }
    Path(path).write_text(json.dumps(out, indent=1) + "\n")


def load_json(path: str | os.PathLike) -> tuple[list[Row], dict[str, str]]:
    """Read a results file: the rows (values as ``(time, MB)`` pairs, as compare.py keeps
    them) and the run's description (versions, machine, command)."""
    doc = json.loads(Path(path).read_text())
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path}: not a compare.py results file (format {doc.get('format')!r}, "
                         f"expected {FORMAT!r})")
    rows = [(r["workload"], r["unit"],
             {lib: (v["value"], v.get("mb")) for lib, v in r["values"].items()})
            for r in doc["rows"]]
    return rows, {k: doc.get(k, "") for k in ("versions", "machine", "command")}


def _threads(workload: str) -> str | None:
    m = re.search(r"(\d+) thread", workload)
    return m.group(1) if m else None


def ratios(rows: Sequence[Row]) -> list[tuple[str, dict[str, float]]]:
    """Per workload, each library's time divided by czarr's (workloads without a czarr
    time are dropped). A ceiling row (one whose workload starts ``ceiling:``) joins the
    workload it bounds: c-blosc's N-thread decode the ``full read, N thread(s)`` row (its
    decode into ``out=`` the full read into ``out=`` with N threads), its encode the first
    full write, memcpy the first full read."""
    groups: list[tuple[str, dict[str, float]]] = []
    czarr_time: dict[str, float] = {}
    for workload, _unit, vals in rows:
        if workload.startswith("ceiling:") or "czarr" not in vals:
            continue
        base = value_of(vals["czarr"])
        czarr_time[workload] = base
        groups.append((workload, {lib: value_of(v) / base for lib, v in vals.items()}))
    by_workload = dict(groups)
    full_reads = [w for w, _ in groups if w.startswith("full read")]
    for workload, _unit, vals in rows:
        if not workload.startswith("ceiling:"):
            continue
        n = _threads(workload)
        into_out = "out=" in workload
        target = next((w for w in full_reads if n is not None and _threads(w) == n
                       and ("out=" in w) == into_out), None)
        if target is None and n is None and full_reads:
            target = full_reads[0]
        if "encode" in workload:
            target = next((w for w, _ in groups if w.startswith("full write")), None)
        if target is None:
            continue
        for lib, v in vals.items():
            by_workload[target][lib] = value_of(v) / czarr_time[target]
    return groups


def rst_table(rows: Sequence[Row]) -> str:
    """The ratios of :func:`ratios` as a reStructuredText list-table (for the docs): one
    row per workload, one column per library, each cell its time divided by czarr's."""
    groups = ratios(rows)
    libs = [lib for lib in LIBRARIES if any(lib in r for _, r in groups)]
    libs += sorted({lib for _, r in groups for lib in r} - set(libs))
    out = [".. list-table::", "   :header-rows: 1", "",
           "   * - workload"] + [f"     - {LABELS.get(lib, lib)}" for lib in libs]
    for workload, r in groups:
        out.append(f"   * - {workload}")
        out += [f"     - {r[lib]:.2f}" if lib in r else "     -" for lib in libs]
    return "\n".join(out) + "\n"


def plot_rows(rows: Sequence[Row], path: str | os.PathLike, title: str = "",
              note: str = "") -> Path:
    """Draw compare.py's rows as grouped horizontal bars (time relative to czarr, log
    scale) and save them to ``path`` (its suffix picks the format: .png, .svg, .pdf)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = ratios(rows)
    if not groups:
        raise ValueError("no workload has a czarr time to compare with")
    libs = [lib for lib in LIBRARIES if any(lib in r for _, r in groups)]
    libs += sorted({lib for _, r in groups for lib in r} - set(libs))
    height = 0.8 / len(libs)
    fig, ax = plt.subplots(figsize=(10, 1.6 + len(groups) * (0.08 * len(libs) + 0.2)))
    for i, lib in enumerate(libs):
        ys, xs = [], []
        for g, (_, r) in enumerate(groups):
            if lib in r:
                ys.append(g + (i - (len(libs) - 1) / 2) * height)
                xs.append(r[lib])
        ax.barh(ys, xs, height=height, color=LIBRARIES.get(lib, "#aaaaaa"),
                label=LABELS.get(lib, lib))
        for x, y in zip(xs, ys):
            ax.text(x, y, f" {x:.2g}", va="center", fontsize=6)
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(groups)))
    ax.set_yticklabels([w for w, _ in groups], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time relative to czarr (log scale; below 1: faster than czarr)", fontsize=9)
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(len(libs), 4),
              frameon=False, title=title or None, title_fontsize=10)
    if note:
        note = textwrap.fill(note, 170)
        fig.text(0.01, 0.005, note, fontsize=7, ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.025 * (note.count("\n") + 1) if note else 0, 1, 1))
    path = Path(path)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def save(rows: Sequence[Row], json_path: str | None = None, plot_dir: str | None = None,
         versions: str = "") -> list[Path]:
    """What compare.py's ``--json FILE`` and ``--plot DIR`` do: the results file, and
    ``DIR/compare.png`` and ``DIR/compare.svg``. Returns the files written."""
    written = []
    if json_path:
        save_json(rows, json_path, versions)
        written.append(Path(json_path))
    if plot_dir:
        os.makedirs(plot_dir, exist_ok=True)
        note = f"{versions}; {machine()}" if versions else machine()
        for suffix in (".png", ".svg"):
            written.append(plot_rows(rows, Path(plot_dir) / f"compare{suffix}",
                                     title="benchmarks/compare.py, one run", note=note))
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", help="a JSON file written by compare.py --json")
    p.add_argument("out", nargs="+", help="image files to write (.png, .svg, .pdf)")
    args = p.parse_args(argv)
    rows, run = load_json(args.results)
    note = "; ".join(v for v in (run["versions"], run["machine"]) if v)
    for out in args.out:
        print(plot_rows(rows, out, title="benchmarks/compare.py, one run", note=note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
