"""Glue entry script for the bronze job: parse args, build the session, call the library.

Locally, run it with spark-submit (which provides Java 17 and the jars: `--jars` from
`fhirpulse deps fetch`), or call `spark_jobs.bronze.job.run_bronze` in-process as `fhirpulse run bronze` does.
"""

import sys

from spark_jobs.bronze.job import run_bronze
from spark_jobs.lake.job_args import job_config
from spark_jobs.lake.session import build_session


def main(argv: list[str]) -> None:
    cfg = job_config(argv)
    run_bronze(cfg, lambda: build_session(cfg, "fhirpulse-bronze"))


if __name__ == "__main__":
    main(sys.argv)
