"""The KPIs of docs/kpis.md computed in plain Python from raw FHIR files: no project code, no Spark.

This is the independent computation the gold layer is checked against. It reads NDJSON (one resource per
line) and JSON Bundles, keeps the newest `meta.lastUpdated` of every (type, id), and applies the written
definitions directly, stay by stay.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SNOMED = "http://snomed.info/sct"
HAI_CODES = {"91302008", "10001005", "76571007", "5758002", "233604007", "68566005", "301011002", "197927001",
             "38822007", "128045006", "186431008", "87628006"}
DEATH = {"exp", "20", "40", "41", "42"}
NOT_INDEX = {"aadvice", "07", "hosp", "02"}
WINDOW = timedelta(days=30)


def _resources_in(path: Path):
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        doc = json.loads(text)
        if doc.get("resourceType") == "Bundle":
            yield from (e["resource"] for e in doc.get("entry", []) if isinstance(e.get("resource"), dict))
        else:
            yield doc
        return
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            yield value


def latest_resources(folders: list[Path]) -> dict[str, dict[str, dict]]:
    """type -> id -> the version with the newest meta.lastUpdated."""
    out: dict[str, dict[str, dict]] = {}
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.suffix in (".ndjson", ".json")):
            for res in _resources_in(path):
                rtype, rid = res.get("resourceType"), res.get("id")
                if not rtype or not rid:
                    continue
                seen = out.setdefault(rtype, {}).get(rid)
                if seen is None or _updated(res) >= _updated(seen):
                    out[rtype][rid] = res
    return out


def _updated(res: dict) -> datetime:
    text = res.get("meta", {}).get("lastUpdated")
    return instant(text) if text else datetime.min.replace(tzinfo=UTC)


def instant(text: str) -> datetime:
    """A FHIR date/dateTime as an aware UTC datetime (a partial date is its first instant, UTC)."""
    if len(text) == 4:
        text += "-01-01"
    elif len(text) == 7:
        text += "-01"
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def _ref_id(reference: str | None, rtype: str, by_identifier: dict[str, str]) -> str | None:
    if not reference:
        return None
    if reference.startswith("urn:uuid:"):
        return reference.removeprefix("urn:uuid:")
    if reference.startswith(f"{rtype}?identifier="):
        return by_identifier.get(reference.split("=", 1)[1].replace("%7C", "|").replace("%7c", "|"))
    parts = reference.split("/")
    return parts[-1] if len(parts) >= 2 and parts[-2] == rtype else None


def _first_code(concept: dict | None) -> str | None:
    codings = (concept or {}).get("coding") or []
    return codings[0].get("code") if codings else None


def _band(age: int | None) -> str:
    if age is None:
        return "unknown"
    for low, high, label in ((0, 17, "0-17"), (18, 44, "18-44"), (45, 64, "45-64"), (65, 74, "65-74"),
                             (75, 84, "75-84")):
        if low <= age <= high:
            return label
    return "85+"


def stays(resources: dict[str, dict[str, dict]]) -> list[dict]:
    """One dict per stay with its flags, by the definitions of docs/kpis.md."""
    orgs = resources.get("Organization", {})
    by_identifier = {f"{i.get('system')}|{i.get('value')}": oid for oid, org in orgs.items()
                     for i in org.get("identifier", [])}
    patients = resources.get("Patient", {})
    found = []
    for enc in resources.get("Encounter", {}).values():
        cls, period = enc.get("class") or {}, enc.get("period") or {}
        if (cls.get("code") != "IMP" or cls.get("system") not in (None, ACT) or enc.get("status") != "finished"
                or not period.get("start") or not period.get("end")):
            continue
        start, end = instant(period["start"]), instant(period["end"])
        patient_id = _ref_id((enc.get("subject") or {}).get("reference"), "Patient", {})
        patient = patients.get(patient_id, {})
        birth = instant(patient["birthDate"]).date() if patient.get("birthDate") else None
        age = None
        if birth:
            adm = start.date()
            age = adm.year - birth.year - ((adm.month, adm.day) < (birth.month, birth.day))
        found.append({
            "id": enc["id"], "patient": patient_id, "start": start, "end": end,
            "admission": start.date(), "discharge": end.date(), "month": end.strftime("%Y-%m"),
            "hospital": _ref_id((enc.get("serviceProvider") or {}).get("reference"), "Organization", by_identifier)
            or "unknown",
            "disposition": _first_code((enc.get("hospitalization") or {}).get("dischargeDisposition")),
            "priority": _first_code(enc.get("priority")), "age_band": _band(age),
            "deceased": instant(patient["deceasedDateTime"]) if patient.get("deceasedDateTime") else None,
        })
    _flag(found, resources.get("Condition", {}).values())
    return found


def _infections(conditions) -> dict[str, list[tuple[str, date]]]:
    out: dict[str, list[tuple[str, date]]] = {}
    for cond in conditions:
        onset = cond.get("onsetDateTime")
        patient = _ref_id((cond.get("subject") or {}).get("reference"), "Patient", {})
        if not onset or not patient:
            continue
        for coding in (cond.get("code") or {}).get("coding", []):
            if coding.get("code") in HAI_CODES and coding.get("system") in (None, SNOMED):
                out.setdefault(patient, []).append((coding["code"], instant(onset).date()))
    return out


def _flag(found: list[dict], conditions) -> None:
    newest = max((s["end"] for s in found), default=None)
    infections = _infections(conditions)
    for s in found:
        s["died"] = s["disposition"] in DEATH or (
            s["deceased"] is not None and s["start"] <= s["deceased"] <= s["end"] + timedelta(days=1))
        s["index"] = (not s["died"] and s["disposition"] not in NOT_INDEX and s["end"] <= newest - WINDOW)
        s["readmitted"] = s["index"] and any(
            o["patient"] == s["patient"] and s["end"] < o["start"] <= s["end"] + WINDOW and o["priority"] != "EL"
            for o in found)
        adm, dis = s["admission"], s["discharge"]
        s["hai_eligible"] = adm + timedelta(days=2) <= dis
        codes = infections.get(s["patient"], [])
        s["hai"] = s["hai_eligible"] and any(
            adm + timedelta(days=2) <= onset <= dis + timedelta(days=1)
            and not any(c == code and adm - timedelta(days=2) <= o <= adm + timedelta(days=1) for c, o in codes)
            for code, onset in codes)
        s["los"] = (s["end"] - s["start"]).total_seconds() / 86400


def summary(found: list[dict]) -> dict:
    def ratio(a, b):
        return a / b if b else None

    n = len(found)
    deaths = sum(s["died"] for s in found)
    index = sum(s["index"] for s in found)
    readmitted = sum(s["readmitted"] for s in found)
    eligible = sum(s["hai_eligible"] for s in found)
    hai = sum(s["hai"] for s in found)
    return {"stays": n, "deaths": deaths, "mortality_rate": ratio(deaths, n), "readmission_index": index,
            "readmissions": readmitted, "readmission_rate": ratio(readmitted, index), "hai_denominator": eligible,
            "hai_stays": hai, "hai_rate": ratio(hai, eligible), "alos_days": ratio(sum(s["los"] for s in found), n)}
