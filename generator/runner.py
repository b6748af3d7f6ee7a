"""Generate one batch: plan chunks of patients, simulate them in worker processes, write in chunk order.

Determinism: a patient's data depends only on (seed, origin batch, patient index) and the parameters, chunks
are fixed ranges of patient indexes (config chunk_patients), and the main process appends chunk outputs in
chunk order. So the bytes of an NDJSON file do not depend on the number of workers. (With gzip each chunk is
one gzip member of the file: the bytes depend on chunk_patients, not on workers.)
Hand-over: pool workers spill each chunk's NDJSON to a file that the main process appends with an in-kernel
copy (or streams to S3), so the main process stays nearly idle and nothing large travels through pipes.
Memory: at most 2 x workers chunks are in flight and sinks stream, so memory does not grow with patients.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import shutil
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice

import orjson
from faker import Faker

from fhirpulse.core.config import GeneratorConfig
from generator.clock import MINUTES_PER_DAY
from generator.fhir import resources
from generator.fhir.bundle import transaction_bundle
from generator.fhir.emit import Emitter, draw_patient_change
from generator.ids import derive_seed
from generator.params import ClinicalModel, batch_label, build_model
from generator.simulation.hospitals import build_hospitals
from generator.simulation.population import PatientSimulator
from generator.stats import RateCounters
from generator.validation import SampleValidator
from generator.writers.batch import BatchWriter
from generator.writers.ndjson import NdjsonBlocks, gzip_member
from generator.writers.targets import Target

_FAKER_LOCALE = "en_US"
ORGANIZATION_BUNDLE_NAME = "hospitalInformation"


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs to produce its chunks (pickled once per worker)."""

    config: GeneratorConfig
    batch: int
    output_format: str = "ndjson"  # ndjson | bundle
    gzip: bool = False
    bundle_method: str = "PUT"
    earlier_patients: int | None = None  # patients per earlier batch; None = config.patients

    @property
    def patients_per_earlier_batch(self) -> int:
        return self.config.patients if self.earlier_patients is None else self.earlier_patients


@dataclass(frozen=True)
class ChunkTask:
    origin_batch: int  # == job.batch: new patients; earlier: candidates for an update
    start: int
    count: int


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


def plan_tasks(job: JobSpec) -> list[ChunkTask]:
    """New patients of this batch, then update candidates of every earlier batch, in fixed-size chunks."""
    size = job.config.chunk_patients
    tasks = [ChunkTask(job.batch, start, min(size, job.config.patients - start))
             for start in range(0, job.config.patients, size)]
    if job.batch > 1 and job.config.update_fraction > 0:
        earlier = job.patients_per_earlier_batch
        for origin in range(1, job.batch):
            tasks.extend(ChunkTask(origin, start, min(size, earlier - start)) for start in range(0, earlier, size))
    return tasks


def picked_for_update(seed: int, batch: int, origin_batch: int, index: int, fraction: float) -> bool:
    return derive_seed("pick", seed, batch, origin_batch, index) / 2**64 < fraction


# --- worker side -------------------------------------------------------------------------------------------
class _Worker:
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


def _init_worker(job: JobSpec, spill_dir: str | None = None) -> None:
    global _WORKER
    _WORKER = _Worker(job, spill_dir)


def _run_chunk(task: ChunkTask) -> ChunkOutput:
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


# --- main process ------------------------------------------------------------------------------------------
def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _ordered_outputs(pool, tasks: Iterable[ChunkTask], window: int) -> Iterator[ChunkOutput]:
    """Chunk outputs in task order, with at most `window` chunks queued or running (bounded memory)."""
    pending: deque = deque()
    remaining = iter(tasks)
    for task in islice(remaining, window):
        pending.append(pool.apply_async(_run_chunk, (task,)))
    while pending:
        result = pending.popleft().get()
        following = next(remaining, None)
        if following is not None:
            pending.append(pool.apply_async(_run_chunk, (following,)))
        yield result


@dataclass
class BatchResult:
    label: str
    as_of: str
    files: list[dict]  # uri, resource_type, bytes
    resources: Counter
    new_patients: int
    updated_patients: int
    rates: RateCounters
    model: ClinicalModel
    validated: int
    invalid: int
    validation_errors: list[str]
    seconds: float
    workers: int


def _write(writer: BatchWriter, output: ChunkOutput) -> None:
    for resource_type, pieces in output.ndjson.items():
        writer.append(resource_type, pieces)
    for resource_type, path in output.spilled.items():
        writer.append_file(resource_type, path)
    for name, data in output.files:
        writer.put_bundle(name, data)


def generate_batch(job: JobSpec, target: Target, destination, workers: int | None = None,
                   on_start: Callable[[int], None] | None = None,
                   on_progress: Callable[[int, int], None] | None = None) -> BatchResult:
    """Generate and write one batch.

    `on_start(total_patients)` runs once the worker processes exist (start progress threads there, not
    before: workers are forked); `on_progress(patients_done, resources_done)` runs after every chunk.
    """
    started = time.perf_counter()
    model = build_model(job.config)  # fail fast on impossible parameters, before any worker starts
    as_of = model.batch_as_of(job.batch).isoformat()
    label = batch_label(job.config, job.batch)
    tasks = plan_tasks(job)
    workers = max(1, min(workers or job.config.workers or default_workers(), len(tasks) or 1))
    totals = ChunkOutput()
    with _chunk_runner(job, workers, target) as run_chunks:
        if on_start is not None:
            on_start(sum(task.count for task in tasks))
        writer = BatchWriter(destination, target, raw_key_template=job.config.raw_key_template,
                             bundle_key_template=job.config.bundle_key_template, batch_label=label, as_of=as_of,
                             gzip=job.gzip)
        try:
            for output in itertools.chain([organizations_output(job)], run_chunks(tasks)):
                _write(writer, output)
                _accumulate(totals, output)
                if on_progress is not None:
                    on_progress(output.candidates, sum(output.resources.values()))
            files = writer.close()
        except BaseException:
            writer.abort()
            raise
    return BatchResult(
        label=label, as_of=as_of, files=files, resources=totals.resources, new_patients=totals.new_patients,
        updated_patients=totals.updated_patients, rates=totals.rates, model=model, validated=totals.validated,
        invalid=totals.invalid, validation_errors=totals.validation_errors,
        seconds=time.perf_counter() - started, workers=workers,
    )


@contextmanager
def _chunk_runner(job: JobSpec, workers: int, target: Target
                  ) -> Iterator[Callable[[list[ChunkTask]], Iterator[ChunkOutput]]]:
    """A function from tasks to their outputs in order: in-process for 1 worker, else a process pool whose
    workers spill chunk bytes to files (next to a local output, so appending them stays on one filesystem)."""
    if workers == 1:
        _init_worker(job)
        yield lambda tasks: map(_run_chunk, tasks)
        return
    if target.root is not None:
        target.root.mkdir(parents=True, exist_ok=True)
    spill_dir = tempfile.mkdtemp(prefix=".generator-spill-", dir=target.root)
    # fork is cheap (no re-import); it happens here, before the caller starts any thread.
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    try:
        with context.Pool(workers, initializer=_init_worker, initargs=(job, spill_dir)) as pool:
            yield lambda tasks: _ordered_outputs(pool, tasks, window=2 * workers)
    finally:
        shutil.rmtree(spill_dir, ignore_errors=True)


def _accumulate(totals: ChunkOutput, output: ChunkOutput) -> None:
    totals.resources.update(output.resources)
    totals.candidates += output.candidates
    totals.new_patients += output.new_patients
    totals.updated_patients += output.updated_patients
    totals.rates.merge(output.rates)
    totals.validated += output.validated
    totals.invalid += output.invalid
    totals.validation_errors.extend(output.validation_errors[: max(0, 20 - len(totals.validation_errors))])
