"""The bad-input corpus (corpus.py) through one bronze run: no crash, every record of every file in bronze or
in quarantine with the case's reason, and the ledger's counts reconcile with both tables, file by file."""

from __future__ import annotations

from collections import Counter

import pytest
from pyspark.sql import functions as F

from fhirpulse.stack.landing import upload_tree
from spark_jobs.bronze.job import run_bronze
from spark_jobs.bronze.ledger import Ledger
from spark_jobs.lake import hudi
from spark_jobs.lake.tables import quarantine_table, resource_table
from tests.integration.helpers import isolated_env
from tests.reliability.corpus import cases

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def corpus_run(running_stack, lake_spark, tmp_path_factory):
    with isolated_env("corpus", tmp_path_factory.mktemp("config")) as cfg:
        root = tmp_path_factory.mktemp("corpus")
        corpus = cases(cfg.bronze.max_record_bytes)
        keys: dict[str, list[str]] = {}
        for case in corpus:
            folder = root / case.name
            folder.mkdir()
            for name, data in case.files.items():
                (folder / name).write_bytes(data)
            # one upload per file, in name order (a later file is a later upload)
            keys[case.name] = [k for name in sorted(case.files) for k in upload_tree(cfg, folder / name, case.name)]
        audit = run_bronze(cfg, lambda: lake_spark)
        yield cfg, corpus, keys, audit


def test_the_corpus_has_at_least_50_distinct_cases(corpus_run):
    _, corpus, _, _ = corpus_run
    assert len({c.name for c in corpus}) == len(corpus) >= 50


def test_one_run_takes_every_case_without_a_crash(corpus_run):
    _, corpus, keys, audit = corpus_run
    assert audit.status == "SUCCEEDED", audit.error
    assert audit.files == sum(len(k) for k in keys.values())


def _reconcile(cfg, spark, cases_: list, keys: dict[str, list[str]]) -> list[str]:
    """Per case: the ledger's records = accepted + quarantined, equal to the case's, with its reasons."""
    ledger = {item["object_key"]: item for item in Ledger(cfg).items()}
    quarantine = hudi.read(spark, cfg, quarantine_table(cfg)).select("source_file", "reason").collect()
    reasons_by_file = Counter((r.source_file, r.reason) for r in quarantine)
    problems = []
    for case in cases_:
        items = [ledger[k] for k in keys[case.name]]
        records = sum(int(i["records"]) for i in items)
        accepted = sum(int(i["bronze_rows"]) for i in items)
        quarantined = sum(int(i["quarantined"]) for i in items)
        files = {f"s3://{cfg.s3.bucket}/{key}" for key in keys[case.name]}
        reasons = Counter({r: n for (f, r), n in reasons_by_file.items() if f in files})
        got = (records, accepted, sorted(reasons.elements()))
        want = (case.records, case.records - len(case.quarantined), sorted(case.quarantined))
        if got != want or records != accepted + quarantined or quarantined != sum(reasons.values()):
            problems.append(f"{case.name}: (records, accepted, reasons) = {got}, expected {want}")
    return problems


def test_every_record_is_in_bronze_or_quarantine_and_the_counts_reconcile(corpus_run, lake_spark):
    cfg, corpus, keys, _ = corpus_run
    problems = _reconcile(cfg, lake_spark, corpus, keys)
    assert problems == [], "\n".join(problems)


def test_each_case_s_resources_are_in_bronze_at_their_newest_version(corpus_run, lake_spark):
    cfg, corpus, keys, _ = corpus_run
    wanted = {(t, i) for case in corpus for t, i in case.bronze}
    rows: dict[tuple[str, str], list] = {}
    for resource_type in sorted({t for t, _ in wanted}):  # one read per table
        ids = sorted(i for t, i in wanted if t == resource_type)
        for r in (hudi.read(lake_spark, cfg, resource_table(resource_type)).where(F.col("id").isin(ids))
                  .select("id", "source_file", "last_updated").collect()):
            rows.setdefault((resource_type, r.id), []).append(r)
    problems = []
    for case in corpus:
        files = [f"s3://{cfg.s3.bucket}/{k}" for k in keys[case.name]]
        for key in sorted(case.bronze):
            found = rows.get(key, [])
            if [r.source_file in files for r in found] != [True]:
                problems.append(f"{case.name}: {key} rows {found}")
            elif key in case.newest and not str(found[0].last_updated).startswith(case.newest[key][:10]):
                problems.append(f"{case.name}: {key} kept {found[0].last_updated}, expected {case.newest[key]}")
    assert problems == [], "\n".join(problems)
