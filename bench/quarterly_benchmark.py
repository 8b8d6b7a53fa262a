"""The demo's quarterly review: its size, the email checks, and how long building it takes.

    python bench/quarterly_benchmark.py [--runs 5]

Runs `pull_info.py --demo` into a temporary folder (it builds the demo's previous quarter beside the month), then
rebuilds the busiest client's review from the quarter's raw files (kept in raw_data/archive/<quarter>/) and its
history, as `build_report.py` does: once as `python build_report.py` from the shell (interpreter and imports included:
the figure the target is for), then in this process, the first build and the median of the following ones. Targets (issue 19): under 100 KB, no email-check error, built in under 1.5 s.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pull_info  # noqa: E402
from utils.core.period import parse_period  # noqa: E402
from utils.reporting.email_checks import check_html, check_template  # noqa: E402
from utils.reporting.email_rules import ERROR  # noqa: E402
from utils.reporting.history import history_for_raw  # noqa: E402
from utils.reporting.report import build_outputs, load_raw  # noqa: E402
from utils.reporting.source_files import load_source_files  # noqa: E402
from utils.sources import attention_rules, report_sections  # noqa: E402

TARGET_SECONDS = 1.5
TARGET_KB = 100


def build(demo: Path, raw_path: Path) -> tuple[float, str]:
    """One build of the review from its raw files and the history (seconds, HTML)."""
    started = time.perf_counter()
    raw = load_raw(raw_path)
    extra, _ = load_source_files(raw_path.parent, str(raw["client"]["id"]), raw["period"], report_sections())
    html, _, _ = build_outputs(raw, extra_raw=extra, history=history_for_raw(demo, raw), sections=report_sections(),
                               attention=attention_rules())
    return time.perf_counter() - started, html


def subprocess_build(demo: Path, raw_path: Path) -> float:
    """`python build_report.py RAW --out ...` from the shell, timed whole: the interpreter, the imports, the build."""
    environment = {**os.environ, "INTEGOREPORT_HOME": str(demo)}
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "build_report.py"), str(raw_path), "--out", str(demo / "review.html"), "-q"],
                   check=True, env=environment, cwd=demo)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        demo = Path(folder) / "demo"
        os.environ["INTEGOREPORT_DEMO_HOME"] = str(demo)
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()):
            code = pull_info.main(["--demo", "--quiet"])
        line = next((text for text in out.getvalue().splitlines() if text.startswith("Quarterly review for")), "")
        print(f"pull_info.py --demo: exit {code} in {time.perf_counter() - started:.1f} s; {line}")
        quarter = parse_period("UTC", quarter="previous")
        archive = demo / "raw_data" / "archive" / quarter.key
        busiest = max(archive.glob("freshservice_*.json"), key=lambda path: path.stat().st_size)
        cold, html = build(demo, busiest)
        script = subprocess_build(demo, busiest)
        warm = [build(demo, busiest)[0] for _ in range(max(1, args.runs))]
        size = len(html.encode("utf-8")) / 1024
        errors = [finding for finding in check_html(html) if finding.severity == ERROR]
        template_errors = [f for f in check_template(ROOT / "templates" / "quarterly_review_template.html", report_sections(), attention_rules()) if f.severity == ERROR]
    median = statistics.median(warm)
    print(f"{quarter.label}, {busiest.name}: {size:.1f} KB (target < {TARGET_KB}); email-check errors {len(errors)}, "
          f"--check-template errors {len(template_errors)}")
    print(f"build in this process: first {cold:.2f} s, then median {median:.2f} s of {len(warm)}; "
          f"python build_report.py from the shell (imports included): {script:.2f} s (target < {TARGET_SECONDS} s)")
    ok = size < TARGET_KB and not errors and not template_errors and script < TARGET_SECONDS
    print("ok" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
