"""How long the report builder takes for a big month: metrics, render, inline, separately and in total.

    python bench/report_benchmark.py [--tickets 2000] [--runs 5]

Builds a synthetic month (seeded, so every run measures the same data), then times the first build
in this process (premailer's import and CSS parsing included) and the median of the following runs.
Target: under 1.5 s in total for 2,000 tickets on a 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.reports import synthetic_month  # noqa: E402
from utils.reporting.metrics import compute_report_data  # noqa: E402
from utils.reporting.report import (  # noqa: E402
    DEFAULT_TEMPLATE,
    TEXT_TEMPLATE,
    ReportSettings,
    build_context,
    compact_html,
    inline_css,
    render_template,
)

TARGET_SECONDS = 1.5


def build_once(raw: dict, settings: ReportSettings) -> dict[str, float]:
    """One full build, timed step by step (seconds)."""
    t0 = time.perf_counter()
    result = compute_report_data(raw, settings.metrics)
    t1 = time.perf_counter()
    context = build_context(result.metrics, result.details, settings)
    html = compact_html(render_template(DEFAULT_TEMPLATE, context))
    render_template(TEXT_TEMPLATE, context, html=False)
    t2 = time.perf_counter()
    inlined = inline_css(html)
    t3 = time.perf_counter()
    return {"metrics": t1 - t0, "render": t2 - t1, "inline": t3 - t2, "total": t3 - t0, "kb": len(inlined.encode("utf-8")) / 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000, help="tickets touching the month (default 2000)")
    parser.add_argument("--runs", type=int, default=5, help="warm runs after the first (default 5)")
    args = parser.parse_args(argv)

    raw = synthetic_month(args.tickets, seed=11)
    settings = ReportSettings()
    cold = build_once(raw, settings)
    warm = [build_once(raw, settings) for _ in range(max(1, args.runs))]

    created = sum(1 for _ in raw["tickets"])
    print(f"report benchmark: {created} tickets in the raw data, {len(warm)} warm runs, Python {sys.version.split()[0]}")
    print(f"{'step':<10}{'first run':>12}{'median warm':>14}")
    for step in ("metrics", "render", "inline", "total"):
        median = statistics.median(run[step] for run in warm)
        print(f"{step:<10}{cold[step] * 1000:>10.0f} ms{median * 1000:>12.0f} ms")
    print(f"inlined HTML: {cold['kb']:.0f} KB")
    verdict = "within" if cold["total"] < TARGET_SECONDS else "OVER"
    print(f"first build {cold['total']:.2f} s: {verdict} the {TARGET_SECONDS} s target")
    return 0 if cold["total"] < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
