"""Every script answers --help."""

from __future__ import annotations

from tests.helpers.running import PROJECT_ROOT, run_script


def test_every_script_has_help():
    for script in ("utils/client_manager.py", "data_pullers/freshservice.py", "build_report.py", "pull_info.py"):
        assert (PROJECT_ROOT / script).exists(), script
        result = run_script(script, "--help")
        assert result.returncode == 0 and "usage:" in result.stdout, script

