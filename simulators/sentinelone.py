"""A local SentinelOne Management API v2.1 server for tests, demos and benchmarks.

Behaviour follows Part 1 of the team's SentinelOne reference: `Authorization: ApiToken <token>`,
`/sites`, `/threats` and `/agents` under `/web/api/v2.1/` with `limit` (1 to 1000, else 400), an
opaque `cursor`, `countOnly` and the filters the puller uses; the 401 and 500 error bodies; 429 with
or without `Retry-After` and 500 on chosen requests (`fail_next`). The reference's unconfirmed
behaviours are switches (`SentinelOneOptions`): an empty page before the last, `totalItems` 0 when
a cursor is sent, booleans as the strings "True"/"False", sites licensed by bundle (no
`totalLicenses`; their seats under `licenses.bundles`), and a hostile `nextCursor` that is a JSON
object instead of a string. Standard library only:

    python -m simulators.demo_sentinelone --port 8091     # serves the demo sites, token demo-s1-token
"""

from __future__ import annotations

import base64
import binascii
import copy
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from simulators.base import LoopbackServer, Reply, Request

API_PREFIX = "/web/api/v2.1"
MAX_LIMIT = 1000
DEFAULT_LIMIT = 10  # what the API pages by when no limit is sent

ERROR_BODIES: dict[int, dict] = {
    400: {"errors": [{"code": 4000010, "detail": None, "title": "Validation Error"}]},
    401: {"errors": [{"code": 4010010, "detail": None, "title": "Authentication Failed"}]},
    403: {"errors": [{"code": 4030010, "detail": None, "title": "Insufficient permissions"}]},
    404: {"errors": [{"code": 4040010, "detail": None, "title": "Resource not found"}]},
    429: {"errors": [{"code": 4290010, "detail": None, "title": "Too many requests"}]},
    500: {"errors": [{"code": 5000010, "detail": "Server could not process the request.", "title": "Internal server error"}]},
    503: {"errors": [{"code": 5030010, "detail": None, "title": "Service unavailable"}]},
}

# Parameters each list endpoint accepts; anything else is a 400, so a misspelt filter shows up in tests.
COMMON_PARAMS = frozenset({"limit", "cursor", "countOnly", "skip", "sortBy", "sortOrder"})
ENDPOINT_PARAMS: dict[str, frozenset[str]] = {
    "sites": COMMON_PARAMS | {"siteIds", "accountIds", "state"},
    "threats": COMMON_PARAMS | {"siteIds", "accountIds", "agentIds", "createdAt__gte", "createdAt__gt", "createdAt__lt",
                                "createdAt__lte", "incidentStatuses", "mitigationStatuses", "classifications"},
    "agents": COMMON_PARAMS | {"siteIds", "accountIds", "isDecommissioned", "isActive", "infected", "isUpToDate", "osTypes"},
}

# 18-digit ids, as the console hands them out; kept as strings everywhere.
_ID_BASES = {"account": 433241117337000000, "site": 657613730168000000, "agent": 110195746423600000,
             "threat": 139205302742500000}


def format_timestamp(moment: datetime | None) -> str | None:
    """SentinelOne's timestamp form: UTC with microseconds, `2026-10-14T09:21:07.482913Z`."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    """A filter's instant: ISO 8601 with `Z` or an offset (naive means UTC); ValueError otherwise."""
    value = text.strip()
    moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


@dataclass
class SentinelOneData:
    """An MSP's SentinelOne account as the simulator serves it: sites, agents and threats (plain dicts)."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 15, 12, 0, tzinfo=UTC))
    account_name: str = "Intego MSP"
    sites: list[dict] = field(default_factory=list)
    agents: list[dict] = field(default_factory=list)
    threats: list[dict] = field(default_factory=list)
    _counters: dict[str, int] = field(default_factory=dict)

    def new_id(self, kind: str) -> str:
        """A fresh 18-digit id of `kind`, as a string."""
        self._counters[kind] = self._counters.get(kind, 0) + 1
        return str(_ID_BASES[kind] + self._counters[kind] * 7919)

    @property
    def account_id(self) -> str:
        return str(_ID_BASES["account"] + 1)

    def add_site(self, name: str, active_licenses: int | None = None, total_licenses: int | None = 50, **fields: Any) -> dict:
        """Add a site (one client); `activeLicenses` defaults to its agent count when left None."""
        site = {
            "id": fields.pop("id", None) or self.new_id("site"), "name": name, "accountId": self.account_id,
            "accountName": self.account_name, "state": "active", "siteType": "Paid", "sku": "Complete",
            "activeLicenses": active_licenses, "totalLicenses": total_licenses, "unlimitedLicenses": False,
            "createdAt": format_timestamp(self.now - timedelta(days=700)),
            "expiration": format_timestamp(self.now + timedelta(days=300)),
            "description": None, "isDefault": False, "creator": "MSP Admin",
        }
        site.update(fields)
        self.sites.append(site)
        return site

    def site(self, site_id: str) -> dict:
        return next(site for site in self.sites if site["id"] == site_id)

    def add_agent(self, site: dict, computer_name: str, *, os_type: str = "windows", machine_type: str = "laptop",
                  last_active: datetime | None = None, **fields: Any) -> dict:
        """Add an endpoint to `site`; booleans and the rest default to a healthy, connected agent."""
        os_names = {"windows": "Windows 11 Pro", "macos": "macOS Sonoma", "linux": "Ubuntu 22.04.4 LTS"}
        agent_id = fields.pop("id", None) or self.new_id("agent")
        agent = {
            "id": agent_id, "uuid": f"{int(agent_id):032x}"[-32:], "computerName": computer_name, "osType": os_type,
            "osName": os_names.get(os_type, os_type), "machineType": machine_type, "agentVersion": "24.1.4.257",
            "isActive": True, "infected": False, "activeThreats": 0, "isUpToDate": True, "isDecommissioned": False,
            "networkStatus": "connected", "mitigationMode": "protect",
            "lastActiveDate": format_timestamp(last_active or self.now - timedelta(minutes=5)),
            "siteId": site["id"], "siteName": site["name"], "accountId": self.account_id,
            "accountName": self.account_name, "groupName": "Default Group",
            "registeredAt": format_timestamp(self.now - timedelta(days=400)),
        }
        agent.update(fields)
        self.agents.append(agent)
        return agent

    def add_threat(self, agent: dict, created: datetime, *, name: str = "EICAR-Test-File.exe",
                   classification: str | None = "Malware", confidence: str | None = "malicious",
                   mitigation: str = "mitigated", verdict: str | None = "true_positive",
                   incident: str = "resolved", automatically_resolved: bool = True,
                   updated: datetime | None = None, **info: Any) -> dict:
        """Add a threat seen on `agent` at `created`, in the v2.1 nested shape."""
        threat_id = self.new_id("threat")
        threat_info = {
            "threatId": threat_id, "threatName": name, "classification": classification, "classificationSource": "Engine",
            "confidenceLevel": confidence, "mitigationStatus": mitigation, "analystVerdict": verdict,
            "incidentStatus": incident, "automaticallyResolved": automatically_resolved,
            "createdAt": format_timestamp(created), "updatedAt": format_timestamp(updated or created + timedelta(minutes=3)),
            "identifiedAt": format_timestamp(created - timedelta(seconds=2)),
            "filePath": f"\\Device\\HarddiskVolume3\\Users\\Public\\Downloads\\{name}",
            "sha1": f"{int(threat_id) * 2654435761:040x}"[-40:], "engines": ["On-Write Static AI"],
            "initiatedBy": "agent_policy", "mitigatedPreemptively": False,
        }
        threat_info.update(info)
        actions = ([{"action": "kill", "status": "success"}, {"action": "quarantine", "status": "success"}]
                   if mitigation == "mitigated" else [])
        threat = {
            "id": threat_id, "threatInfo": threat_info,
            "agentRealtimeInfo": {"agentComputerName": agent["computerName"], "agentId": agent["id"],
                                  "agentOsType": agent["osType"], "siteId": agent["siteId"], "siteName": agent["siteName"],
                                  "accountId": self.account_id, "accountName": self.account_name},
            "agentDetectionInfo": {"agentVersion": agent["agentVersion"], "siteId": agent["siteId"]},
            "mitigationStatus": actions, "indicators": [], "whiteningOptions": ["hash", "path"],
        }
        self.threats.append(threat)
        return threat


@dataclass
class SentinelOneOptions:
    """Knobs of a running simulator; tests may change them while it serves."""

    api_token: str = "demo-s1-token"
    empty_page_before_end: bool = False  # a page with no data (and a cursor) just before the last page
    zero_total_with_cursor: bool = False  # totalItems reads 0 on every page asked for with a cursor
    string_booleans: bool = False  # agent and threat booleans as "True" / "False"
    strict_params: bool = True  # unknown query parameters answer 400
    # Bundle-licensed sites: no `totalLicenses`; the site's seats are `licenses.bundles[].totalSurfaces`
    # (one bundle named after its `sku`, none for a site whose total is None).
    bundle_licenses: bool = False
    object_cursor: bool = False  # `nextCursor` of every page that has a next one is a JSON object, not a string
    repeated_cursor: bool = False  # a page asked for with a cursor answers that same cursor as its `nextCursor`


class SentinelOneSimulator(LoopbackServer):
    """A SentinelOne Management API on a loopback port, serving one `SentinelOneData`."""

    server_name = "SentinelOneSimulator/1.0"

    def __init__(self, data: SentinelOneData | None = None, options: SentinelOneOptions | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.data = data or SentinelOneData()
        self.options = options or SentinelOneOptions()
        self._by_site: dict[str, int] = {}

    # ---- counters

    def counters(self) -> dict:
        """The base counters plus `by_site`: requests per `siteIds` value."""
        snapshot = super().counters()
        with self._lock:
            snapshot["by_site"] = dict(self._by_site)
        return snapshot

    def reset_counters(self) -> None:
        super().reset_counters()
        with self._lock:
            self._by_site.clear()

    def endpoint_of(self, request: Request) -> str:
        path = request.path
        return path[len(API_PREFIX) + 1:] if path.startswith(API_PREFIX + "/") else path

    def error_body(self, status: int) -> Any:
        return copy.deepcopy(ERROR_BODIES.get(status, {"errors": [{"code": status * 10000 + 10, "detail": None,
                                                                     "title": f"HTTP {status}"}]}))

    # ---- answering

    def handle(self, request: Request) -> Reply:
        if not self._authorised(request.header("Authorization")):
            return Reply(401, self.error_body(401))
        endpoint = self.endpoint_of(request)
        if endpoint not in ENDPOINT_PARAMS or not request.path.startswith(API_PREFIX + "/"):
            return Reply(404, self.error_body(404))
        if request.method != "GET":
            return Reply(405, {"errors": [{"code": 4050010, "detail": None, "title": "Method not allowed"}]})
        with self._lock:
            for site_id in _id_list(request.params.get("siteIds")):
                self._by_site[site_id] = self._by_site.get(site_id, 0) + 1
        try:
            return self._list(endpoint, request.params)
        except _Invalid as exc:
            return Reply(400, {"errors": [{"code": 4000010, "detail": str(exc), "title": "Validation Error"}]})

    def _authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("ApiToken "):
            return False
        return hmac.compare_digest(header[len("ApiToken "):].strip().encode(), self.options.api_token.encode())

    def _list(self, endpoint: str, params: dict[str, str]) -> Reply:
        unknown = sorted(set(params) - ENDPOINT_PARAMS[endpoint])
        if unknown and self.options.strict_params:
            raise _Invalid(f"unknown filter: {', '.join(unknown)}")
        limit = _limit(params.get("limit"))
        items = self._select(endpoint, params)
        if _truthy_param(params.get("countOnly")):
            # The reference's (unconfirmed) shape, the same for every endpoint, /sites included.
            return Reply(200, {"data": [], "pagination": {"totalItems": len(items), "nextCursor": None}})
        cursor = params.get("cursor")
        offset, empty_served = _decode_cursor(cursor, endpoint) if cursor else (int(params.get("skip") or 0), False)
        if not cursor and offset > MAX_LIMIT:
            raise _Invalid("skip: must be at most 1000; use the cursor")
        page = items[offset:offset + limit]
        end = offset + len(page)
        more = end < len(items)
        if cursor and not more and page and self.options.empty_page_before_end and not empty_served:
            # The quirk the reference warns of: an empty page, with a cursor, before the real last page.
            page, end, more = [], offset, True
            next_cursor: str | None = _encode_cursor(endpoint, offset, True)
        else:
            next_cursor = _encode_cursor(endpoint, end, False) if more else None
        total = 0 if cursor and self.options.zero_total_with_cursor else len(items)
        rendered = [self._render(endpoint, item) for item in page]
        data: Any = self._sites_data(rendered) if endpoint == "sites" else rendered
        if cursor and next_cursor and self.options.repeated_cursor:
            next_cursor = cursor
        cursor_out: Any = next_cursor
        if next_cursor and self.options.object_cursor:
            cursor_out = {"cursor": next_cursor}
        return Reply(200, {"data": data, "pagination": {"totalItems": total, "nextCursor": cursor_out}})

    def _sites_data(self, sites: list[dict]) -> dict:
        # /sites wraps its list in a different envelope, with totals over every site the filter matched.
        return {"allSites": {"activeLicenses": sum(site.get("activeLicenses") or 0 for site in sites),
                             "totalLicenses": sum(site.get("totalLicenses") or 0 for site in sites)},
                "sites": sites}

    def _select(self, endpoint: str, params: dict[str, str]) -> list[dict]:
        site_ids = set(_id_list(params.get("siteIds")))
        account_ids = set(_id_list(params.get("accountIds")))
        with self._lock:
            if endpoint == "sites":
                items = [self._site_with_counts(site) for site in self.data.sites]
            else:
                items = list(self.data.agents if endpoint == "agents" else self.data.threats)
        if site_ids:
            items = [item for item in items if _site_of(endpoint, item) in site_ids]
        if account_ids:
            items = [item for item in items if (item.get("accountId") or item.get("agentRealtimeInfo", {}).get("accountId")) in account_ids]
        if endpoint == "sites" and params.get("state"):
            items = [item for item in items if item.get("state") == params["state"]]
        if endpoint == "agents":
            items = self._filter_agents(items, params)
        if endpoint == "threats":
            items = self._filter_threats(items, params)
        return sorted(items, key=lambda item: int(item["id"]))

    def _site_with_counts(self, site: dict) -> dict:
        if site.get("activeLicenses") is not None:
            return site
        active = sum(1 for agent in self.data.agents if agent["siteId"] == site["id"] and not _flag(agent.get("isDecommissioned")))
        return {**site, "activeLicenses": active}

    @staticmethod
    def _filter_agents(items: list[dict], params: dict[str, str]) -> list[dict]:
        for name in ("isDecommissioned", "isActive", "infected", "isUpToDate"):
            if name in params:
                wanted = _bool_param(name, params[name])
                items = [item for item in items if _flag(item.get(name)) == wanted]
        if params.get("osTypes"):
            os_types = set(params["osTypes"].split(","))
            items = [item for item in items if item.get("osType") in os_types]
        return items

    @staticmethod
    def _filter_threats(items: list[dict], params: dict[str, str]) -> list[dict]:
        bounds = {"createdAt__gte": lambda a, b: a >= b, "createdAt__gt": lambda a, b: a > b,
                  "createdAt__lt": lambda a, b: a < b, "createdAt__lte": lambda a, b: a <= b}
        for name, compare in bounds.items():
            if name in params:
                try:
                    bound = parse_timestamp(params[name])
                except ValueError:
                    raise _Invalid(f"{name}: not a valid datetime") from None
                # Stamps are stored in one fixed-width UTC form, so comparing the text compares the instants.
                stamp = format_timestamp(bound)
                items = [item for item in items if compare(item["threatInfo"]["createdAt"], stamp)]
        for name, key in (("incidentStatuses", "incidentStatus"), ("mitigationStatuses", "mitigationStatus"),
                          ("classifications", "classification")):
            if params.get(name):
                wanted = set(params[name].split(","))
                items = [item for item in items if item["threatInfo"].get(key) in wanted]
        return items

    def _render(self, endpoint: str, item: dict) -> dict:
        if endpoint == "sites" and self.options.bundle_licenses:
            item = _bundle_licensed(item)
        if not self.options.string_booleans:
            return item  # serialised as it is; never handed out for changing
        item = copy.deepcopy(item)
        target = item["threatInfo"] if endpoint == "threats" else item
        for key, value in list(target.items()):
            if isinstance(value, bool):
                target[key] = "True" if value else "False"
        return item


def _bundle_licensed(site: dict) -> dict:
    """The site as a bundle-licensed account answers it: seats under `licenses.bundles`, no `totalLicenses`."""
    total = site.get("totalLicenses")
    rendered = {key: value for key, value in site.items() if key != "totalLicenses"}
    sku = str(site.get("sku") or "Complete")
    bundles = [] if total is None else [{"name": sku.lower(), "displayName": sku, "majorVersion": 1, "minorVersion": 0,
                                         "surfaces": [{"name": "Total Agents", "count": total}], "totalSurfaces": total}]
    rendered["licenses"] = {"bundles": bundles, "modules": [], "settings": []}
    return rendered


def _site_of(endpoint: str, item: dict) -> str:
    if endpoint == "sites":
        return item["id"]
    return item["siteId"] if endpoint == "agents" else item["agentRealtimeInfo"]["siteId"]


class _Invalid(ValueError):
    """A request the API refuses with 400."""


def _id_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        raise _Invalid("limit: not a valid integer") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise _Invalid(f"limit: must be between 1 and {MAX_LIMIT}")
    return limit


def _truthy_param(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")


def _bool_param(name: str, value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise _Invalid(f"{name}: must be true or false")
    return value.lower() == "true"


def _encode_cursor(endpoint: str, offset: int, empty_served: bool) -> str:
    payload = json.dumps({"e": endpoint, "o": offset, "x": empty_served}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def _decode_cursor(cursor: str, endpoint: str) -> tuple[int, bool]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if payload["e"] != endpoint:
            raise ValueError("cursor of another listing")
        return int(payload["o"]), bool(payload["x"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise _Invalid("cursor: invalid cursor") from None
