"""The Glue entry script of every FHIRPulse job: parse the arguments, build the session, call the library.

Glue runs it as the script of each job (bronze, silver, gold: `--fhirpulse_job` says which), with the job
library shipped as `--extra-py-files`. The local workflow runner and `fhirpulse run …` call `run` in-process
with Glue's arguments; `spark-submit spark_jobs/entrypoints/glue_job.py --fhirpulse_job bronze --env local
--aws-endpoint-url …` works too (with `--jars` from `fhirpulse deps fetch`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from pyspark.sql import SparkSession

from fhirpulse.core.errors import ConfigError
from spark_jobs.bronze.job import run_bronze
from spark_jobs.gold.job import run_gold
from spark_jobs.lake.audit import AuditRecord
from spark_jobs.lake.job_args import job_args
from spark_jobs.lake.lifecycle import JobError
from spark_jobs.lake.session import build_session
from spark_jobs.silver.job import run_silver

JOBS: dict[str, Callable[..., AuditRecord]] = {"bronze": run_bronze, "silver": run_silver, "gold": run_gold}


def run(argv: list[str], session: Callable[[], SparkSession] | None = None) -> AuditRecord:
    """One job run from Glue-style arguments; `session` overrides the session factory (local runners)."""
    args = job_args(argv)
    job = JOBS.get(args.job)
    if job is None:
        raise ConfigError(f"--fhirpulse_job: unknown job {args.job!r} (expected one of {', '.join(JOBS)})")
    factory = session or (lambda: build_session(args.cfg, args.job_name))
    options = {"full": args.full} if args.job != "bronze" else {}
    return job(args.cfg, factory, run_id=args.run_id, **options)


def main() -> None:
    try:
        run(sys.argv)
    except JobError as err:  # already logged with its traceback and recorded in the audit: one line here
        print(f"fhirpulse: {err}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
