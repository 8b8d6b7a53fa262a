"""How fast the web interface's pages answer, over real HTTP from waitress on 127.0.0.1, signed in.

    python bench/web_benchmark.py [--home DEMO_HOME] [--repeat 50]

Without --home it runs the demo once (`pull_info.py --demo`, six clients, about a minute) in a
temporary folder; with --home it serves a folder the demo (or a real run) has already filled.
Sets a password (its hash in the environment, nothing written), signs in, then asks
for each page --repeat times and prints the median and the 95th percentile. Target (issue 20):
every page under 200 ms on the project's machine. Not asserted in the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import waitress  # noqa: E402

import pull_info  # noqa: E402
from utils.delivery.outbound import find_reports  # noqa: E402
from utils.web import auth  # noqa: E402
from utils.web.app import create_app  # noqa: E402

PASSWORD = "bench web password"
TARGET_MS = 200


def demo_home(folder: Path) -> Path:
    os.environ["INTEGOREPORT_DEMO_HOME"] = str(folder)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = pull_info.main(["--demo", "-q"])
    if code != 0:
        raise SystemExit(f"the demo run failed (exit {code})")
    return folder


def pages_of(home: Path) -> list[str]:
    month = sorted(p.name for p in (home / "reports").iterdir() if re.fullmatch(r"\d{4}-\d{2}", p.name))[-1]
    report = next(iter(find_reports(home / "reports" / month).values()))
    return ["/clients", "/months", f"/months/{month}", f"/months/{month}/clients/{report.client_id}",
            f"/months/{month}/files/{report.html_path.name}", f"/months/{month}/files/index.html",
            f"/months/{month}/clients/{report.client_id}/send?mode=resend", "/settings", "/jobs", "/check"]


def sign_in(session: requests.Session, base: str) -> None:
    page = session.get(base + "/signin").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    answer = session.post(base + "/signin", data={"password": PASSWORD, "csrf_token": token.group(1)}, allow_redirects=False)
    assert answer.status_code == 302, answer.status_code


def measure(session: requests.Session, url: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = session.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (url, answer.status_code)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a home with reports (default: run the demo into a temporary folder)")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        home = args.home.resolve() if args.home else demo_home(Path(temporary) / "demo")
        os.environ[auth.ENV_PASSWORD_HASH] = auth.hash_password(PASSWORD)
        os.environ["INTEGOREPORT_HOME"] = str(home)
        server = waitress.create_server(create_app(home, demo=True), host="127.0.0.1", port=0, threads=4)
        threading.Thread(target=server.run, daemon=True).start()
        base = f"http://127.0.0.1:{server.effective_port}"
        session = requests.Session()
        sign_in(session, base)
        print(f"{'page':<60} {'median ms':>10} {'p95 ms':>8}")
        slowest = 0.0
        for page in pages_of(home):
            times = sorted(measure(session, base + page, args.repeat))
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            slowest = max(slowest, p95)
            print(f"{page[:60]:<60} {statistics.median(times):>10.1f} {p95:>8.1f}")
        server.close()
    print(f"slowest p95: {slowest:.1f} ms (target {TARGET_MS} ms): {'ok' if slowest < TARGET_MS else 'SLOW'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
