"""What a report says about who sends it and what it may show ([report] of integoreport.toml), plus the metrics settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from utils.core.errors import ConfigError
from utils.core.settings import ReportSettings as ReportFileSettings
from utils.core.settings import load_settings
from utils.reporting.metrics import MetricsSettings, parse_business_hours

ENV_MSP_NAME = "INTEGOREPORT_MSP_NAME"
ENV_CSAT_COMMENTS = "INTEGOREPORT_SHOW_CSAT_COMMENTS"
DEFAULT_MSP_NAME = "Your IT team"


@dataclass(frozen=True)
class ReportSettings:
    """What the report says about who sends it and what it may show; plus the metrics settings."""

    msp_name: str = DEFAULT_MSP_NAME
    show_csat_comments: bool = False
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    logo_url: str | None = None
    accent_color: str | None = None
    contact: str | None = None

    @classmethod
    def load(cls, home: Path | None = None, env: Mapping[str, str] | None = None) -> ReportSettings:
        """The [report] settings of integoreport.toml in the home, environment variables winning."""
        return cls.from_settings(load_settings(home, env).report)

    @classmethod
    def from_settings(cls, report: ReportFileSettings) -> ReportSettings:
        """From the validated [report] table (utils.core.settings)."""
        metrics = replace(MetricsSettings(), proactive_tags=report.proactive_tags)
        if report.business_hours:
            days, start, end = parse_business_hours(report.business_hours)
            metrics = replace(metrics, business_days=days, business_start=start, business_end=end)
        return cls(msp_name=report.msp_name, show_csat_comments=report.show_csat_comments, metrics=metrics,
                   logo_url=report.logo_url, accent_color=report.accent_color, contact=report.contact)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReportSettings:
        """Read INTEGOREPORT_MSP_NAME, INTEGOREPORT_SHOW_CSAT_COMMENTS and the metrics variables."""
        env = os.environ if env is None else env
        name = env.get(ENV_MSP_NAME, "").strip() or DEFAULT_MSP_NAME
        flag = env.get(ENV_CSAT_COMMENTS, "").strip().lower()
        if flag not in ("", "0", "1", "true", "false", "yes", "no", "on", "off"):
            raise ConfigError(f"{ENV_CSAT_COMMENTS} must be 1 or 0 (yes/no), not {flag!r}")
        return cls(msp_name=name, show_csat_comments=flag in ("1", "true", "yes", "on"), metrics=MetricsSettings.from_env(env))
