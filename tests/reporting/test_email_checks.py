"""`build_report.py --check-template PATH`: the email-safety checks of utils/reporting/email_checks.py on any template copy."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.reports import build_outputs, check_template
from utils.reporting.email_checks import (
    SUPPORT_FILE,
    check_client_support,
    check_contrast,
    check_escaping,
    check_forbidden,
    check_markup,
    contrast_ratio,
    support_table,
)
from utils.reporting.report import TEMPLATES_DIR
from utils.reporting.sample_sources import busy_sample
from utils.sources import attention_rules, report_sections

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STOCK = TEMPLATES_DIR / "email_report_template.html"
SECTION_RULE = ".sec { font-family: Arial, Helvetica, sans-serif; color: #1f2933; padding: 28px 32px 4px; }"
LEAD_RULE = ".lead { margin: 0 0 12px; font-size: 13px; line-height: 19px; color: #52606d; }"
CLIENT_HEADING = 'font-weight:bold;">{{ client_name }}</h1>'


def run_check(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTEGOREPORT_", "FRESHSERVICE_"))}
    env["INTEGOREPORT_HOME"] = str(cwd / "no-home-needed")
    return subprocess.run([sys.executable, str(PROJECT_ROOT / "build_report.py"), "--check-template", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def copy_of_stock(folder: Path, old: str = "", new: str = "", name: str = "my_template.html") -> Path:
    """The stock template copied elsewhere (its parts stay in templates/), with `old` replaced by `new` once.

    Where `old` sits in a part the stock template includes (the style rules in parts/head.html, the
    heading in parts/header.html, ...), that part is copied beside the copy and edited there, as a
    restyler would (the copy's own parts come first).
    """
    path = folder / name
    path.write_text(STOCK.read_text(encoding="utf-8"), encoding="utf-8")
    if old:
        edited, source = path, path
        if old not in STOCK.read_text(encoding="utf-8"):
            source = next(part for part in sorted((TEMPLATES_DIR / "parts").glob("*.html")) if old in part.read_text(encoding="utf-8"))
            edited = folder / "parts" / source.name
        text = source.read_text(encoding="utf-8")
        assert text.count(old) == 1, old
        edited.parent.mkdir(exist_ok=True)
        edited.write_text(text.replace(old, new), encoding="utf-8")
    return path


def edited_file(copy: Path) -> Path:
    """Where a copy's style rules live: the copy's own parts/head.html (the stock template includes it)."""
    return copy.parent / "parts" / "head.html"


def errors(findings) -> list[str]:
    return [finding.line() for finding in findings if finding.severity == "error"]


# ---------------------------------------------------------------------------------------------
# The command


def test_the_stock_template_passes_with_no_errors(tmp_path):
    result = run_check(str(STOCK), "-v", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith(f"{STOCK}: 0 errors, ") and "warnings" in lines[-1]
    assert [line for line in lines if line.startswith("error")] == [] and result.stderr == ""
    # -v lists the warnings too: features a client supports only in part.
    assert "warning: [client-support] <body> element is only partly supported by Gmail (desktop webmail), Gmail (iOS), Gmail (Android) " \
           f"({STOCK} line " in result.stdout


def test_a_copy_using_display_flex_fails_and_names_the_line(tmp_path):
    copy = copy_of_stock(tmp_path, SECTION_RULE, SECTION_RULE.replace(" }", " display: flex; }"))
    part = edited_file(copy)
    line = next(n for n, text in enumerate(part.read_text(encoding="utf-8").splitlines(), 1) if "display: flex" in text)
    result = run_check(str(copy), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout.splitlines()
    assert f"error: [client-support] display:flex is not supported by Outlook (Windows) ({part} line {line})" in out
    assert any(entry.startswith("error: [forbidden] display:flex") for entry in out)
    assert out[-1].startswith(f"{copy}: 2 errors, ") and out[-1].endswith("warnings (-v lists the warnings)")
    assert len(out) == 3 and "Traceback" not in result.stderr  # without -v: the errors and the last line only


@pytest.mark.parametrize("what", ["missing", "folder"])
def test_a_missing_or_unreadable_path_exits_2_with_one_line(tmp_path, what):
    path = tmp_path / "no_such_template.html" if what == "missing" else tmp_path
    result = run_check(str(path), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(path) in lines[0], result.stderr
    assert result.stdout == ""


def test_a_template_that_does_not_render_is_one_finding(tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body>{{ no_such_value }}</body></html>", encoding="utf-8")
    result = run_check(str(broken), cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout.splitlines()[0].startswith("error: [render] template ") and "failed to render" in result.stdout


# ---------------------------------------------------------------------------------------------
# Each check on a template copy


def test_a_copy_with_low_contrast_text_fails(tmp_path):
    copy = copy_of_stock(tmp_path, LEAD_RULE, LEAD_RULE.replace("#52606d", "#a3acb9"))
    found = [f for f in check_template(copy) if f.check == "contrast"]
    assert len(found) == 1 and found[0].severity == "error"
    assert "text #a3acb9 on #ffffff is 2.3:1, under 4.5:1" in found[0].message
    assert found[0].where.startswith(f"{edited_file(copy)} line ")


def test_a_copy_that_marks_the_client_name_safe_fails_the_escaping_check(tmp_path):
    copy = copy_of_stock(tmp_path, CLIENT_HEADING, CLIENT_HEADING.replace("client_name", "client_name|safe"))
    found = [f for f in check_template(copy) if f.check == "escaping"]
    assert len(found) == 1 and found[0].severity == "error"
    assert "the client's name" in found[0].message
    assert check_escaping(STOCK, sections=report_sections(), attention=attention_rules()) == []  # the stock template shows the same names as text


def test_a_part_beside_the_copy_is_used_and_named(tmp_path):
    # A restyled copy finds its own parts first, the stock ones for the rest (as build_report.py --template does).
    (tmp_path / "parts").mkdir()
    stock_part = (TEMPLATES_DIR / "parts" / "attention.html").read_text(encoding="utf-8")
    (tmp_path / "parts" / "attention.html").write_text('<div style="display:grid">grid</div>\n' + stock_part, encoding="utf-8")
    copy = copy_of_stock(tmp_path)
    found = errors(check_template(copy))
    assert f"error: [client-support] display:grid is not supported by Gmail (desktop webmail), Gmail (iOS), Gmail (Android), " \
           f"Outlook (Windows) ({tmp_path / 'parts' / 'attention.html'} line 1)" in found


def test_the_sample_month_is_the_busy_one():
    # The size check means something only if the sample has every section at its longest, like the size test's month.
    raw, extra, settings, history = busy_sample()
    html, _, metrics = build_outputs(raw, settings=settings, extra_raw=extra, history=history)
    assert metrics["volume"]["created"] >= 300 and metrics["attention"] and metrics["previous"] is not None
    assert metrics["m365"]["licenses"] and metrics["m365"]["mfa"]["without_names"] and metrics["s1"]["threats"]["open_now"]
    for heading in ("Needs your attention", "Six-month trend", "Where the work went", "Recent tickets", "Microsoft 365", "Endpoint protection"):
        assert heading in html, heading
    assert len(html.encode("utf-8")) > 75_000


# ---------------------------------------------------------------------------------------------
# The checks on small pages


def page(body: str, head: str = "") -> str:
    return (f'<html lang="en"><head><title>T</title>{head}</head><body><div style="display:none">preheader</div>'
            f'<table role="presentation"><tr><td>{body}</td></tr></table></body></html>')


def test_client_support_errors_and_warnings_as_email_lint_gives_them():
    found = check_client_support(page('<div style="display:flex;border-radius:4px;margin:0">x</div>'))
    lines = [f.line() for f in found]
    assert any(line.startswith("error: [client-support] display:flex is not supported by Outlook (Windows)") for line in lines)
    assert any(line.startswith("warning: [client-support] display:flex is only partly supported by Gmail (iOS), Gmail (Android)") for line in lines)
    assert any(line.startswith("error: [client-support] border-radius is not supported by Outlook (Windows)") for line in lines)
    assert any(line.startswith("warning: [client-support] margin is only partly supported") for line in lines)
    # @media and overflow are ignored, as email-lint's defaults ignore them; asked for, they are findings.
    media = page('<div style="overflow:hidden">x</div>', head="<style>@media (max-width:600px){.a{width:100%}}</style>")
    assert not [f for f in check_client_support(media) if f.message.startswith(("@media", "overflow"))]
    assert errors(check_client_support(media, ignore=())) == [
        "error: [client-support] @media is not supported by Outlook (Windows) (rendered sample line 1)",
        "error: [client-support] overflow is not supported by Outlook (Windows) (rendered sample line 1)",
    ]


def test_client_support_reads_style_blocks_elements_and_attributes():
    html = page('<svg></svg><a href="#top" target="_blank">x</a>',
                head="<style>@font-face{font-family:X} a:hover{color:red} .b{background-image:none;width:2rem}</style>")
    titles = {f.message.split(" is ")[0] for f in check_client_support(html) if f.severity == "error"}
    assert {"@font-face", ":hover", "background-image", "rem unit", "Embedded <svg> image", "Local anchors", "target attribute"} <= titles


def test_forbidden_patterns_markup_and_contrast_on_small_pages():
    assert [f.message.split(":")[0] for f in check_forbidden(page('<p style="color:rgb(0 128 0 / 1)">x</p><svg></svg>'))] == [
        "inline <svg>", "rgb() with a slash"]
    bare = "<html><head></head><body><table><tr><td><img src=\"x.png\"></td></tr></table></body></html>"
    messages = [f.message for f in check_markup(bare)]
    assert any("lang" in m for m in messages) and any("<title>" in m for m in messages) and any("alt" in m for m in messages)
    assert any('role="presentation"' in m for m in messages) and any("preheader" in m for m in messages)
    assert check_markup(page("x")) == []
    # The reference palette: #7b8794 on white is 3.7:1 and fails; #52606d is 6.5:1 and passes.
    assert round(contrast_ratio("#7b8794", "#ffffff"), 1) == 3.7 and round(contrast_ratio("#52606d", "#fff"), 1) == 6.5
    low = check_contrast(page('<p style="color:#7b8794">muted</p><p style="color:#52606d">fine</p>'))
    assert [f.message for f in low] == ["text #7b8794 on #ffffff is 3.7:1, under 4.5:1 (1 text, first: 'muted')"]
    on_dark = page('<td bgcolor="#243b53"><p style="color:#ffffff">header</p><p style="color:#3e4c59">dim</p></td>')
    assert [f.message.split(" is ")[0] for f in check_contrast(on_dark)] == ["text #3e4c59 on #243b53"]


def test_the_support_table_says_where_it_came_from():
    data = json.loads(SUPPORT_FILE.read_text(encoding="utf-8"))
    assert "caniemail.com" in data["source"] and "@jsx-email/doiuse-email" in data["source"] and "last_update_date" in data["source"]
    assert data["licence"][0].startswith("MIT License") and "HTeuMeuLeu" in data["licence"][0]
    clients, features = support_table()
    assert list(clients) == ["gmail.desktop-webmail", "gmail.ios", "gmail.android", "outlook.windows", "apple-mail.macos", "apple-mail.ios"]
    flex = next(f for f in features if f.title == "display:flex")
    assert flex.support["outlook.windows"] == "n" and flex.support["apple-mail.ios"] == "y"
    assert all(set(f.support.values()) <= {"y", "a", "u", "n"} and set(f.support.values()) != {"y"} for f in features)


def test_nothing_in_the_repository_reaches_outside_it():
    # A fresh clone runs every check: no code, test or document uses a path into the team's folder beside the repository
    # (the email-lint test once did: Path(__file__).parents[1].parent / <that folder>/tools/email-lint).
    outside = re.compile(r"""\.\./shared/|/\s*["']shared/""")
    files = [path for path in PROJECT_ROOT.rglob("*") if path.is_file() and not any(part.startswith((".", "__")) for part in
             path.relative_to(PROJECT_ROOT).parts) and path.suffix in (".py", ".md", ".toml", ".html", ".txt", ".json", ".cfg", ".sh")]
    assert len(files) > 50
    assert [str(path) for path in files if outside.search(path.read_text(encoding="utf-8", errors="replace"))] == []
