"""Before/after in one interleaved run: a benchmark script of two checkouts, alternately.

Usage::

    git worktree add --detach /tmp/before <old commit>
    python benchmarks/compare.py --before /tmp/before --rounds 3 bench_operators.py
    python benchmarks/compare.py --before /tmp/before bench_delegated.py --count 2000 \\
        --backends sqlite --workers 1 --idle-seconds 0

Each round runs ``<checkout>/benchmarks/<script> [args]`` for the old checkout, then for this
one (``--after``, default: the checkout holding this file), each in a fresh process with that
checkout first on ``PYTHONPATH``, so both see the same machine load. These machines are noisy:
one run each says little, alternating rounds say what changed. Every output line of the script
that holds a figure ("median 12.3 ms", "1,009 ops/s", ...) is matched by its label (the text
before the first figure) and printed with the median over rounds of before and after.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import statistics
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent

_FIGURE = re.compile(r"(-?\d[\d,]*\.?\d*)\s*(us|ms|s|ops/s|%)(?![a-z])")


def run_once(checkout: pathlib.Path, script: str, args: list[str]) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(checkout), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    done = subprocess.run(
        [sys.executable, str(checkout / "benchmarks" / script), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{script} failed in {checkout}:\n{done.stderr[-2000:]}")
    return done.stdout


def figures(output: str) -> dict[str, tuple[float, str]]:
    """``label -> (figure, unit)`` of each figure of each line: a line's first figure is
    labelled by the text before it, a later one by that plus the words since the previous
    figure ("sqlite workers=1 queue ... drain ...")."""
    found = {}
    for line in output.splitlines():
        start, prefix = 0, None
        for match in _FIGURE.finditer(line):
            words = line[start : match.start()].strip().rstrip(":").strip()
            words = re.sub(r"\bmedian$", "", words).strip()
            if words.startswith("(") or words.startswith("best"):
                start = match.end()
                continue  # "(best 1.2 ms, n=20)": the median is the figure
            label = words if prefix is None else f"{prefix} | {words}"
            if prefix is None:
                prefix = words or line.strip()
            label = label or line.strip()
            while label in found:
                label += "'"
            found[label] = (float(match.group(1).replace(",", "")), match.group(2))
            start = match.end()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, type=pathlib.Path)
    parser.add_argument("--after", type=pathlib.Path, default=HERE.parent)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("script")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    opts = parser.parse_args()
    runs: dict[str, list[dict[str, tuple[float, str]]]] = {"before": [], "after": []}
    for round_number in range(opts.rounds):
        for name, checkout in (("before", opts.before), ("after", opts.after)):
            print(f"round {round_number + 1}/{opts.rounds}: {name}", file=sys.stderr)
            runs[name].append(figures(run_once(checkout.resolve(), opts.script, opts.args)))
    labels = list(dict.fromkeys(label for run in runs["after"] for label in run))
    width = max((len(label) for label in labels), default=10)
    print(f"{'':{width}}  {'before':>12}  {'after':>12}  (medians of {opts.rounds} rounds)")
    for label in labels:
        cells = []
        for name in ("before", "after"):
            values = [run[label][0] for run in runs[name] if label in run]
            unit = next((run[label][1] for run in runs[name] if label in run), "")
            cells.append(f"{statistics.median(values):10.2f} {unit:<3}" if values else "-")
        print(f"{label:{width}}  {cells[0]:>12}  {cells[1]:>12}")


if __name__ == "__main__":
    main()
