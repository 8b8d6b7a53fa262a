"""Freshservice assets in the simulator (issue 19): the asset list, its department filter and type fields, the asset types.

What is served follows docs/freshservice-assets.md: `GET /api/v2/assets?filter="department_id:N"` answers 30 assets
a page, pages numbered up to 40, `include=type_fields` costs 2 credits more a call; a type field's key ends in the id of
the asset type it belongs to (`warranty_expiry_date_21000012345`); `GET /api/v2/asset_types` is an ordinary list.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

ASSET_PAGE_SIZE = 30
ASSET_PAGE_CAP = 40
ASSET_TYPE_ID_BASE = 21000012000
ASSET_ID_BASE = 21000500000
_FILTER = re.compile(r'^"department_id:(\d+)"$')
ASSET_PARAMETERS = frozenset({"filter", "include", "page"})


@dataclass
class AssetStore:
    """The account's asset types and assets (an account without any: an MSP that keeps no assets in Freshservice)."""

    types: dict[int, dict] = field(default_factory=dict)
    assets: list[dict] = field(default_factory=list)

    def asset_type(self, name: str) -> int:
        """The id of the asset type `name`, added on first use."""
        for type_id, record in self.types.items():
            if record["name"] == name:
                return type_id
        type_id = ASSET_TYPE_ID_BASE + len(self.types) + 1
        self.types[type_id] = {"id": type_id, "name": name, "parent_asset_type_id": None, "visible": True,
                               "description": f"{name} devices", "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
        return type_id

    def add_asset(self, department_id: int | None, name: str, type_name: str, acquired: date | None = None,
                  warranty_ends: date | None = None, **fields: Any) -> dict:
        """Add one asset of `type_name` for a department; dates left None are empty, as Freshservice leaves them."""
        type_id = self.asset_type(type_name)
        asset_id = ASSET_ID_BASE + len(self.assets) + 1
        type_fields = {f"product_{type_id}": None, f"vendor_{type_id}": None, f"serial_number_{type_id}": f"SN{asset_id}",
                       f"acquisition_date_{type_id}": f"{acquired.isoformat()}T00:00:00Z" if acquired else None,
                       f"warranty_expiry_date_{type_id}": f"{warranty_ends.isoformat()}T00:00:00Z" if warranty_ends else None}
        asset = {"id": asset_id, "display_id": len(self.assets) + 1, "name": name, "description": None, "asset_type_id": type_id,
                 "asset_tag": f"ASSET-{len(self.assets) + 1}", "impact": "low", "author_type": "User", "usage_type": "permanent",
                 "user_id": None, "location_id": None, "department_id": department_id, "agent_id": None, "group_id": None,
                 "assigned_on": None, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
                 "type_fields": type_fields, **fields}
        self.assets.append(asset)
        return asset


def filtered_assets(store: AssetStore, params: dict[str, str]) -> tuple[list[dict], str | None]:
    """(the page's assets, or a refusal's field name) for /api/v2/assets with the parameters as sent."""
    unknown = sorted(set(params) - ASSET_PARAMETERS)
    if unknown:
        return [], unknown[0]
    if params.get("include", "type_fields") != "type_fields":
        return [], "include"
    matches = store.assets
    if "filter" in params:
        match = _FILTER.match(params["filter"])
        if not match:
            return [], "filter"
        matches = [asset for asset in matches if asset["department_id"] == int(match.group(1))]
    page_text = params.get("page", "1")
    if not page_text.isdigit() or not 1 <= int(page_text) <= ASSET_PAGE_CAP:
        return [], "page"
    # Filtered results come newest first and cannot be sorted otherwise (the docs).
    ordered = sorted(matches, key=lambda asset: -asset["id"])
    page = int(page_text)
    chunk = ordered[(page - 1) * ASSET_PAGE_SIZE:page * ASSET_PAGE_SIZE]
    if "include" not in params:
        chunk = [{key: value for key, value in asset.items() if key != "type_fields"} for asset in chunk]
    return chunk, None


# The demo's devices: how many each demo client keeps in the helpdesk (the small ones keep none: their review shows no devices).
DEMO_DEVICES = {"Harrow & Vance LLP": ("HV", 60), "Brightsmile Dental Group": ("BSD", 30),
                "Northline Architecture Studio": ("NL", 20), "Riverbend Community Trust": ("RCT", 8)}
DEMO_TYPES = (("Laptop", "LT", 0.55), ("Desktop", "DT", 0.3), ("Server", "SRV", 0.08), ("Printer", "PR", 0.07))


def add_demo_devices(account: Any, seed: int) -> None:
    """Give the demo's larger clients devices of every age, some out of warranty or ending soon (own random sequence:
    the tickets' draws stay as they were)."""
    rng = random.Random(seed * 7 + 19)
    today = account.now.date()
    for department in account.departments.values():
        prefix, count = DEMO_DEVICES.get(department["name"], ("", 0))
        for number in range(1, count + 1):
            type_name, short, _ = rng.choices(DEMO_TYPES, weights=[weight for *_, weight in DEMO_TYPES])[0]
            acquired = today - timedelta(days=rng.randint(60, 7 * 365))
            warranty = None if rng.random() < 0.1 else acquired + timedelta(days=365 * rng.choice((1, 3, 3, 3, 5)))
            account.assets.add_asset(department["id"], f"{prefix}-{short}-{number:03d}", type_name, acquired, warranty)
