"""Rendering keeps one Jinja environment per template folder, and still reads an edited template anew."""

from __future__ import annotations

import os

from utils.reporting.report_render import render_template, template_environment


def test_an_edited_template_is_read_anew_by_the_same_process(tmp_path):
    template = tmp_path / "restyled.html"
    template.write_text("<p>Hello {{ name }}</p>", encoding="utf-8")
    assert render_template(template, {"name": "Acme"}) == "<p>Hello Acme</p>"

    template.write_text("<h1>Dear {{ name }}</h1>", encoding="utf-8")
    stat = template.stat()  # an edit within the same clock tick still moves the time: make sure it moved
    os.utime(template, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert render_template(template, {"name": "Acme"}) == "<h1>Dear Acme</h1>"


def test_one_environment_per_folder_so_a_template_compiles_once(tmp_path):
    (tmp_path / "a.html").write_text("{{ x }}", encoding="utf-8")
    assert template_environment(tmp_path) is template_environment(tmp_path)
    assert template_environment(tmp_path) is not template_environment(tmp_path, html=False)
    first = template_environment(tmp_path).get_template("a.html")
    assert template_environment(tmp_path).get_template("a.html") is first  # compiled once, then taken from the cache
