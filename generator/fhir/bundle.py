"""Per-patient transaction Bundles (like Synthea's): `urn:uuid:` fullUrls, references inside the bundle by
urn:uuid, Organizations by `Organization/<id>` (they come in their own 'hospitalInformation' bundle).

PUT (default) keeps the generator's ids, so re-sending an update bundle upserts; POST lets a server assign
ids (the urn:uuid references are rewritten by the server), which suits one-off loads only.
"""

from __future__ import annotations

import random

from generator.ids import derive_seed, new_uuid


def transaction_bundle(entries: list[dict], method: str, identity: tuple) -> dict:
    """A transaction Bundle of `entries`; its id is derived from `identity` so it replays with the seed."""
    return {
        "resourceType": "Bundle",
        "id": new_uuid(random.Random(derive_seed("bundle", *identity))),
        # ISO-8601 texts in one format order like the instants they denote.
        "meta": {"lastUpdated": max(r["meta"]["lastUpdated"] for r in entries)},
        "type": "transaction",
        "entry": [_entry(resource, method) for resource in entries],
    }


def _entry(resource: dict, method: str) -> dict:
    resource_type, resource_id = resource["resourceType"], resource["id"]
    url = f"{resource_type}/{resource_id}" if method == "PUT" else resource_type
    return {"fullUrl": f"urn:uuid:{resource_id}", "resource": resource, "request": {"method": method, "url": url}}
