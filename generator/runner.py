"""Generate one batch: plan chunks of patients (generator/planning.py), simulate them in worker processes
(generator/worker.py), write in chunk order (this module: the pool and the main process).

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
from dataclasses import dataclass
from itertools import islice

from generator.params import ClinicalModel, batch_label, build_model
from generator.planning import ChunkTask, JobSpec, picked_for_update, plan_tasks
from generator.stats import RateCounters
from generator.worker import ChunkOutput, init_worker, organizations_output, run_chunk
from generator.writers.batch import BatchWriter
from generator.writers.targets import Target

# Planned and run elsewhere, imported from here by the CLI, the report and the benchmarks.
__all__ = ["BatchResult", "ChunkOutput", "ChunkTask", "JobSpec", "default_workers", "generate_batch",
           "picked_for_update", "plan_tasks"]


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _ordered_outputs(pool, tasks: Iterable[ChunkTask], window: int) -> Iterator[ChunkOutput]:
    """Chunk outputs in task order, with at most `window` chunks queued or running (bounded memory)."""
    pending: deque = deque()
    remaining = iter(tasks)
    for task in islice(remaining, window):
        pending.append(pool.apply_async(run_chunk, (task,)))
    while pending:
        result = pending.popleft().get()
        following = next(remaining, None)
        if following is not None:
            pending.append(pool.apply_async(run_chunk, (following,)))
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
        init_worker(job)
        yield lambda tasks: map(run_chunk, tasks)
        return
    if target.root is not None:
        target.root.mkdir(parents=True, exist_ok=True)
    spill_dir = tempfile.mkdtemp(prefix=".generator-spill-", dir=target.root)
    # fork is cheap (no re-import); it happens here, before the caller starts any thread.
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    try:
        with context.Pool(workers, initializer=init_worker, initargs=(job, spill_dir)) as pool:
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
