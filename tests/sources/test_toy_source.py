"""A fourth data source, declared in this file alone: its settings table read, pulled by the batch, checked
by --check, in the report.

The toy is a remote monitoring tool (an RMM) with its own little simulator on 127.0.0.1, its own
[rmm] settings table and key, and its own section templates in tmp_path. The test adds its
declaration to the list of sources (monkeypatch) and touches no other file: that is all
docs/adding-a-source.md asks of a new source. Core names none of the sources (the last test).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

import build_report
import pull_info
from simulators.base import LoopbackServer, Reply, Request
from tests.helpers.batch import MONTH, batch_env, report_dir, small_account
from utils.core.errors import AuthenticationError, ConfigError
from utils.core.period import Period
from utils.core.secrets import SecretSpec
from utils.core.settings import Settings, TableSpec
from utils.core.settings_values import url_value
from utils.monthly.batch import slugify
from utils.reporting.section import AttentionRule, ReportSection
from utils.sources import SOURCES
from utils.sources.source import Source

TOY_KEY = "toy-rmm-key"
TOY_SECRET = SecretSpec("TOY_RMM_KEY", "toy_rmm_key.txt", "toy RMM key")
TOY_TABLE = TableSpec(table="rmm", keys={"url": url_value}, required=frozenset({"url"}), secret=TOY_SECRET)
OFFLINE_TEXT = "{n} devices have been offline for a week: tell us if they are gone."


class ToyRmm(LoopbackServer):
    """Two endpoints: /ping (the check) and /devices?client=ID (each client has three, some offline)."""

    server_name = "ToyRMM/1.0"

    def handle(self, request: Request) -> Reply:
        if request.header("X-Api-Key") != TOY_KEY:
            return Reply(401, {"error": "bad key"})
        if request.path == "/ping":
            return Reply(200, {"ok": True})
        if request.path == "/devices" and set(request.params) == {"client"}:
            offline = int(request.params["client"]) % 3  # differs by client, worked out again below
            return Reply(200, {"devices": [{"name": f"PC-{n}", "online": n >= offline} for n in range(3)]})
        return Reply(404, {"error": "unknown"})


class ToyClient:
    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key

    def get(self, path: str, **params: str) -> dict:
        reply = requests.get(f"{self.url}{path}", params=params, headers={"X-Api-Key": self.key}, timeout=5)
        if reply.status_code == 401:
            raise AuthenticationError("the toy RMM refused its key (401)")
        reply.raise_for_status()
        return reply.json()


def offline_of(client_id: str) -> int:
    return int(client_id) % 3


def make_toy_client(settings: Settings) -> ToyClient:
    """From the source's own [rmm] table and its key (TOY_RMM_KEY), as the built-in sources make theirs."""
    table = settings.table(TOY_TABLE.table)
    if table is None:
        raise ConfigError("the toy RMM is not configured: add an [rmm] table with its url")
    return ToyClient(table["url"], settings.secret(TOY_SECRET))


def toy_source(templates: Path) -> Source:
    def pull(client: ToyClient, settings: Settings, client_id: str, period: Period) -> dict:
        return {"schema_version": 1, "source": "rmm", "period": period.as_dict(), "client": {"id": client_id},
                "devices": client.get("/devices", client=client_id)["devices"]}

    def compute(raw: dict) -> dict:
        devices = raw["devices"]
        return {"devices": len(devices), "offline": sum(1 for device in devices if not device["online"])}

    section = ReportSection(name="rmm", key="rmm", title="Devices", compute=compute,
                            context=lambda figures: {"line": f"{figures['offline']} of {figures['devices']} devices offline"},
                            summary=lambda figures: f"Toy RMM watched {figures['devices']} devices.", templates=templates)
    rule = AttentionRule(kind="devices_offline", rank=45, count=lambda metrics: (metrics.get("rmm") or {}).get("offline"),
                         text=lambda n: OFFLINE_TEXT.format(n=n))
    def check(settings: Settings) -> str | None:
        client = make_toy_client(settings)
        return f"{client.url}: key accepted" if client.get("/ping")["ok"] else None

    return Source(name="rmm", title="Toy RMM", settings=TOY_TABLE, client_field=None,
                  enabled=lambda settings: settings.table(TOY_TABLE.table) is not None,
                  make_client=make_toy_client, pull=pull, check=check, report=section, attention=(rule,))


@pytest.fixture
def toy(serve, tmp_path, monkeypatch) -> ToyRmm:
    templates = tmp_path / "toy_templates"
    templates.mkdir()
    (templates / "rmm.html").write_text('<tr><td class="sec"><h2>{{ section.title }}</h2><p>TOY-RMM {{ section.view.line }}</p></td></tr>\n',
                                        encoding="utf-8")
    (templates / "rmm.txt").write_text("{{ section.title | upper }}\nTOY-RMM {{ section.view.line }}\n", encoding="utf-8")
    simulator = serve(ToyRmm())
    monkeypatch.setattr("utils.sources.SOURCES", (*SOURCES, toy_source(templates)))
    return simulator


def test_a_declared_toy_source_is_pulled_checked_reported_and_counted(toy, start_simulator, home, monkeypatch, capsys, tmp_path):
    account, (acme, beta, quiet) = small_account()
    freshservice = start_simulator(account)
    for name, value in batch_env(freshservice).items():
        monkeypatch.setenv(name, value)
    (home / "integoreport.toml").write_text(f'[rmm]\nurl = "{toy.url}"\n', encoding="utf-8")  # read by its own TableSpec
    monkeypatch.setenv(TOY_SECRET.env_var, TOY_KEY)

    assert pull_info.main(["--month", MONTH]) == 0, capsys.readouterr().err
    capsys.readouterr()
    for client_id in (acme, beta, quiet):
        raw = json.loads((home / "raw_data" / f"rmm_{client_id}.json").read_text(encoding="utf-8"))
        assert raw["source"] == "rmm" and len(raw["devices"]) == 3
        stem = report_dir(home) / f"{slugify(account.departments[client_id]['name'])}-{client_id}"
        metrics = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        offline = offline_of(str(client_id))
        assert metrics["rmm"] == {"devices": 3, "offline": offline}
        items = [item for item in metrics["attention"] if item["kind"] == "devices_offline"]
        assert items == ([{"kind": "devices_offline", "count": offline, "text": OFFLINE_TEXT.format(n=offline)}] if offline else [])
        assert f"TOY-RMM {offline} of 3 devices offline" in stem.with_suffix(".html").read_text(encoding="utf-8")
        assert f"TOY-RMM {offline} of 3 devices offline" in stem.with_suffix(".txt").read_text(encoding="utf-8")
        if offline:
            assert OFFLINE_TEXT.format(n=offline) in stem.with_suffix(".html").read_text(encoding="utf-8")
    assert any(offline_of(str(client_id)) for client_id in (acme, beta, quiet))  # the attention item was seen at least once

    # build_report.py finds the toy's raw file beside Freshservice's and renders the same section.
    out = tmp_path / "rebuilt.html"
    assert build_report.main([str(home / "raw_data" / f"freshservice_{acme}.json"), "--out", str(out)]) == 0
    assert f"TOY-RMM {offline_of(str(acme))} of 3 devices offline" in out.read_text(encoding="utf-8")

    capsys.readouterr()
    assert pull_info.main(["--check"]) == 0
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if line.startswith("Toy RMM"))
    assert f"{toy.url}: key accepted" in row and row.rstrip().endswith("OK")
    assert table.index("SentinelOne") < table.index("Toy RMM") < table.index("Email delivery")  # declared order, delivery last


def test_the_toy_sources_own_table_is_checked_like_every_setting(toy, home, capsys):
    (home / "integoreport.toml").write_text(f'[rmm]\nurl = "{toy.url}"\napi_key = "toy-in-the-file"\n', encoding="utf-8")
    assert pull_info.main(["--check"]) == 2
    err = capsys.readouterr().err
    assert "[rmm] api_key looks like a secret: secrets never go in integoreport.toml; set TOY_RMM_KEY" in err
    assert "toy-in-the-file" not in err
    (home / "integoreport.toml").write_text(f'[rmm]\nulr = "{toy.url}"\n', encoding="utf-8")
    assert pull_info.main(["--check"]) == 2
    assert ":2: [rmm] ulr is not a known setting (did you mean 'url'?)" in capsys.readouterr().err


def test_core_names_no_source(tmp_path):
    """Adding a source touches no file of utils/core: its table, client key, secret and environment variables live
    in its declaration. Freshservice, the helpdesk every install has, is declared like the others."""
    sources = (*SOURCES, toy_source(tmp_path))
    assert [source.name for source in sources if source.settings is None] == []
    core = {path.name: path.read_text(encoding="utf-8") for path in (Path(__file__).parents[2] / "utils" / "core").glob("*.py")}
    for source in sources:
        spec = source.settings
        assert spec is not None
        names = {source.name, source.title, spec.table, spec.client_key, source.client_field, *spec.env.values()}
        if spec.secret is not None:
            names |= {spec.secret.env_var, spec.secret.file_name}
        for name in filter(None, names):
            found = [file for file, text in core.items() if re.search(rf"\b{re.escape(name)}\b", text, flags=re.IGNORECASE)]
            assert not found, f"utils/core names {name!r} of {source.name} in {found}"
