"""Glue entry script for the bronze job: parse args, build the session, call the library."""

import sys

from spark_jobs.bronze.job import run_bronze
from spark_jobs.context import job_config
from spark_jobs.session import build_session


def main(argv: list[str]) -> None:
    cfg = job_config(argv)
    run_bronze(cfg, lambda: build_session(cfg, "fhirpulse-bronze"))


if __name__ == "__main__":
    main(sys.argv)
