"""The worker side of a batch: simulate a chunk of patients and serialise their FHIR resources.

One `_Worker` per process (built once by `init_worker`, its job pickled once); `run_chunk` turns a chunk task
into a `ChunkOutput` (NDJSON pieces or Bundles, counts, realised rates, validation). Pool workers spill the
NDJSON to files that the main process appends (generator/runner.py).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from faker import Faker

from generator.clock import MINUTES_PER_DAY
from generator.fhir import resources
from generator.fhir.bundle import transaction_bundle
from generator.fhir.emit import Emitter, draw_patient_change
from generator.params import ClinicalModel, build_model
from generator.planning import ChunkTask, JobSpec, picked_for_update
from generator.simulation.hospitals import build_hospitals
from generator.simulation.population import PatientSimulator
from generator.stats import RateCounters
from generator.validation import SampleValidator
from generator.writers.ndjson import NdjsonBlocks, gzip_member

_FAKER_LOCALE = "en_US"
ORGANIZATION_BUNDLE_NAME = "hospitalInformation"


@dataclass
class ChunkOutput:
    ndjson: dict[str, list[bytes]] = field(default_factory=dict)  # type -> NDJSON pieces (a gzip member if gzip)
    spilled: dict[str, str] = field(default_factory=dict)  # type -> file holding those bytes (pool workers)
    files: list[tuple[str, bytes]] = field(default_factory=list)  # bundle name -> bytes
    resources: Counter = field(default_factory=Counter)
    candidates: int = 0
    new_patients: int = 0
    updated_patients: int = 0
    rates: RateCounters = field(default_factory=RateCounters)
    validated: int = 0
    invalid: int = 0
    validation_errors: list[str] = field(default_factory=list)


class _Worker:
    """A worker process's simulator, emitter and job: built once, then one `run` per chunk task."""

    def __init__(self, job: JobSpec, spill_dir: str | None = None):
        cfg = job.config
        self.job = job
        self.spill_dir = spill_dir
        self.model: ClinicalModel = build_model(cfg)
        self.faker = Faker(_FAKER_LOCALE)
        self.hospitals = build_hospitals(cfg.seed, cfg.hospitals, self.faker)
        self.simulator = PatientSimulator(self.model, self.hospitals, self.faker)
        self.emitter = Emitter(self.model, self.hospitals)
        self.cut = self.model.batch_cut(job.batch)

    def run(self, task: ChunkTask) -> ChunkOutput:
        job, cfg = self.job, self.job.config
        is_new = task.origin_batch == job.batch
        validator = SampleValidator(cfg.validate_sample, cfg.seed, job.batch, task.origin_batch, task.start)
        lines: dict[str, NdjsonBlocks] = {}
        output = ChunkOutput(candidates=task.count)
        for index in range(task.start, task.start + task.count):
            if is_new:
                patient_id, emitted = self._new_patient(task.origin_batch, index, output)
            elif picked_for_update(cfg.seed, job.batch, task.origin_batch, index, cfg.update_fraction):
                patient_id, emitted = self._updated_patient(task.origin_batch, index, output)
            else:
                continue
            if not emitted:
                continue
            if job.output_format == "bundle":
                output.resources.update(r["resourceType"] for r in emitted)
                payload = orjson.dumps(transaction_bundle(emitted, job.bundle_method, (cfg.seed, job.batch, patient_id)))
                validator.offer("Bundle", payload)
                output.files.append((patient_id, payload))
            else:
                _serialise(emitted, lines, output.resources, validator.offer if cfg.validate_sample > 0 else None)
        output.ndjson = {resource_type: blocks.pieces() for resource_type, blocks in lines.items()}
        _finish(output, validator, job.gzip)
        if self.spill_dir is not None:
            self._spill(output, task)
        return output

    def _new_patient(self, batch: int, index: int, output: ChunkOutput) -> tuple[str, list[dict]]:
        timeline = self.simulator.simulate(batch, index)
        output.new_patients += 1
        output.rates.account(timeline, self.cut)
        return timeline.patient_id, list(self.emitter.patient_resources(timeline, self.cut))

    def _updated_patient(self, origin_batch: int, index: int, output: ChunkOutput) -> tuple[str, list[dict]]:
        """An earlier batch's patient: what changed since its first batch, plus an administrative change."""
        cfg = self.job.config
        timeline = self.simulator.simulate(origin_batch, index)
        change = draw_patient_change(self.faker, cfg.seed, self.job.batch, timeline, self.cut,
                                     cfg.batch_interval_days * MINUTES_PER_DAY)
        since = self.model.batch_cut(origin_batch)
        emitted = list(self.emitter.patient_resources(timeline, self.cut, since, change))
        output.updated_patients += bool(emitted)
        return timeline.patient_id, emitted

    def _spill(self, output: ChunkOutput, task: ChunkTask) -> None:
        """Hand chunk bytes over as files: the main process then appends them with an in-kernel copy
        instead of receiving them through a pipe (pickle + pipe cost the main process ~4 copies)."""
        for resource_type, pieces in output.ndjson.items():
            path = os.path.join(self.spill_dir, f"{task.origin_batch}-{task.start}-{resource_type}")
            with open(path, "wb") as spill:
                spill.writelines(pieces)
            output.spilled[resource_type] = path
        output.ndjson = {}


def _serialise(emitted: list[dict], lines: dict[str, NdjsonBlocks], counts: Counter,
               validate: Callable | None) -> None:
    dumps = orjson.dumps
    for resource in emitted:
        resource_type = resource["resourceType"]
        payload = dumps(resource)
        blocks = lines.get(resource_type)
        if blocks is None:
            blocks = lines[resource_type] = NdjsonBlocks()
        blocks.append(payload)
        counts[resource_type] += 1
        if validate is not None:
            validate(resource_type, payload)


def _finish(output: ChunkOutput, validator: SampleValidator, compress: bool) -> None:
    output.validated, output.invalid, output.validation_errors = validator.checked, validator.failed, validator.errors
    if compress:
        output.ndjson = {k: gzip_member(pieces) for k, pieces in output.ndjson.items()}
        output.files = [(name, b"".join(gzip_member([data]))) for name, data in output.files]


_WORKER: _Worker | None = None


def init_worker(job: JobSpec, spill_dir: str | None = None) -> None:
    global _WORKER
    _WORKER = _Worker(job, spill_dir)


def run_chunk(task: ChunkTask) -> ChunkOutput:
    assert _WORKER is not None, "worker not initialised"
    return _WORKER.run(task)


def organizations_output(job: JobSpec) -> ChunkOutput:
    """The hospitals, identical in every batch of a seed (same ids, same lastUpdated: idempotent upserts)."""
    cfg = job.config
    model = build_model(cfg)
    hospitals = build_hospitals(cfg.seed, cfg.hospitals, Faker(_FAKER_LOCALE))
    created = model.window_start - MINUTES_PER_DAY  # before any patient data
    emitted = [resources.organization(h, created) for h in hospitals]
    validator = SampleValidator(cfg.validate_sample, cfg.seed, "organizations")
    output = ChunkOutput(resources=Counter({"Organization": len(emitted)}))
    if job.output_format == "bundle":
        payload = orjson.dumps(transaction_bundle(emitted, "PUT", (cfg.seed, "organizations")))
        validator.offer("Bundle", payload)
        output.files.append((ORGANIZATION_BUNDLE_NAME, payload))
    else:
        payloads = [orjson.dumps(r) for r in emitted]
        for payload in payloads:
            validator.offer("Organization", payload)
        output.ndjson["Organization"] = [b"\n".join(payloads) + b"\n"]
    _finish(output, validator, job.gzip)
    return output
