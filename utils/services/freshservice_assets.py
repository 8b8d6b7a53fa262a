"""A client's devices from Freshservice's assets (issue 19), as docs/freshservice-assets.md describes the API.

One filtered list, `GET /api/v2/assets?filter="department_id:N"&include=type_fields` (30 assets a page, at most
40 pages, 3 credits a call with the type fields), and one list of the asset types for their names. The raw file
keeps only what the review shows: each device's name, type, acquisition date and warranty end.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from utils.core.errors import ForbiddenError, NotFoundError, ValidationFailed
from utils.services.freshservice_client import FreshserviceClient

ASSET_PAGE_SIZE = 30  # the asset filter answers 30 a page whatever per_page says
ASSET_PAGE_CAP = 40  # and stops at page 40 (1,200 assets): a larger estate is reported as incomplete
TYPE_FIELDS_COST = 3  # include=type_fields adds 2 credits to each call
# A type field's key ends in the id of the asset type that defines it (Hardware's fields on a Laptop carry Hardware's id).
ACQUIRED_PREFIX = "acquisition_date_"
WARRANTY_PREFIX = "warranty_expiry_date_"

log = logging.getLogger(__name__)


def _type_field(asset: Mapping[str, Any], prefix: str) -> str | None:
    fields = asset.get("type_fields")
    if not isinstance(fields, Mapping):
        return None
    for key, value in fields.items():
        if str(key).startswith(prefix) and isinstance(value, str) and value:
            return value[:10]
    return None


def device_record(asset: Mapping[str, Any], type_names: Mapping[int, str]) -> dict[str, Any]:
    """What the raw file keeps of one asset."""
    type_id = asset.get("asset_type_id")
    return {"id": asset.get("id"), "name": asset.get("name"), "type": type_names.get(type_id, "Other") if isinstance(type_id, int) else "Other",
            "acquired": _type_field(asset, ACQUIRED_PREFIX), "warranty_ends": _type_field(asset, WARRANTY_PREFIX)}


def fetch_devices(client: FreshserviceClient, department_id: Any, warnings: list[str]) -> list[dict] | None:
    """The department's devices, or None when the account keeps no assets or the key may not read them."""
    assets: list[dict] = []
    try:
        for page in range(1, ASSET_PAGE_CAP + 1):
            body = client.get_json("assets", {"filter": f'"department_id:{department_id}"', "include": "type_fields", "page": page},
                                   expected_cost=TYPE_FIELDS_COST)
            batch = body.get("assets") if isinstance(body, dict) else None
            if not isinstance(batch, list):
                return None
            assets.extend(item for item in batch if isinstance(item, dict))
            if len(batch) < ASSET_PAGE_SIZE:
                break
        else:
            warnings.append(f"the asset list stops at {ASSET_PAGE_CAP} pages: only the {len(assets)} newest devices are shown")
        if not assets:
            return []
        type_names = {item["id"]: str(item.get("name")) for item in client.paginate("asset_types", "asset_types")
                      if isinstance(item, dict) and isinstance(item.get("id"), int)}
    except (ForbiddenError, NotFoundError, ValidationFailed) as exc:  # no asset module, or a key without asset access
        log.debug("assets not available: %s", exc)
        return None
    return [device_record(asset, type_names) for asset in assets]
