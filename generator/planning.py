"""Planning a batch: which patients it holds, in fixed chunks of patient indexes.

A batch holds its new patients and, from the second batch on, a share of every earlier batch's patients
(updates). Chunks are fixed ranges of patient indexes (config chunk_patients), so what a chunk holds never
depends on the number of workers (see generator/runner.py for the determinism this gives).
"""

from __future__ import annotations

from dataclasses import dataclass

from fhirpulse.core.config import GeneratorConfig
from generator.ids import derive_seed


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
