"""Per-patient transaction Bundles (like Synthea's): `urn:uuid:` fullUrls, and references to resources of the
same bundle rewritten to those urn:uuids; anything else keeps its literal `Type/id` (Organizations, which come
in their own 'hospitalInformation' bundle, and in an update bundle resources sent by an earlier batch).

PUT (default) keeps the generator's ids, so re-sending an update bundle upserts; POST lets a server assign
ids (the urn:uuid references are rewritten by the server), which suits one-off loads only.
"""

from __future__ import annotations

import random

from generator.ids import derive_seed, new_uuid


def transaction_bundle(entries: list[dict], method: str, identity: tuple) -> dict:
    """A transaction Bundle of `entries`; its id is derived from `identity` so it replays with the seed."""
    in_bundle = {f"{r['resourceType']}/{r['id']}": f"urn:uuid:{r['id']}" for r in entries}
    return {
        "resourceType": "Bundle",
        "id": new_uuid(random.Random(derive_seed("bundle", *identity))),
        # ISO-8601 texts in one format order like the instants they denote.
        "meta": {"lastUpdated": max(r["meta"]["lastUpdated"] for r in entries)},
        "type": "transaction",
        "entry": [_entry(_with_bundle_references(resource, in_bundle), method) for resource in entries],
    }


def _entry(resource: dict, method: str) -> dict:
    resource_type, resource_id = resource["resourceType"], resource["id"]
    url = f"{resource_type}/{resource_id}" if method == "PUT" else resource_type
    return {"fullUrl": f"urn:uuid:{resource_id}", "resource": resource, "request": {"method": method, "url": url}}


def _with_bundle_references(value, in_bundle: dict[str, str]):
    """A copy of `value` with references to bundle entries as urn:uuid (builders share fragments: no mutation)."""
    if isinstance(value, dict):
        copy = {key: _with_bundle_references(item, in_bundle) for key, item in value.items()}
        target = in_bundle.get(copy.get("reference")) if isinstance(copy.get("reference"), str) else None
        if target is not None:
            copy["reference"] = target
        return copy
    if isinstance(value, list):
        return [_with_bundle_references(item, in_bundle) for item in value]
    return value
