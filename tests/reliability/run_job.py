"""One job run through the Glue entry script in its own process, as a Glue job run would be (no workflow lock):
`python -m tests.reliability.run_job bronze --env X [--wait SECONDS]`. Prints the audit record as JSON; a
failed run prints one line and exits 1, as the entry script's main does."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from fhirpulse import stack
from fhirpulse.core.config import load_config
from fhirpulse.stack.spark import local_session
from spark_jobs.entrypoints import glue_job
from spark_jobs.lake.job_args import glue_arguments
from spark_jobs.lake.lifecycle import JobError


def main(layer: str, env: str, wait: str | None = None) -> None:
    cfg = stack.resolve_stack_values(load_config(env))
    if wait is not None:
        cfg = cfg.model_copy(update={"workflow": cfg.workflow.model_copy(update={"job_wait_seconds": float(wait)})})
    argv = ["glue_job.py", *glue_arguments(cfg, layer)]
    try:
        audit = glue_job.run(argv, lambda: local_session(cfg, f"fhirpulse-{layer}"))
    except JobError as err:
        print(f"fhirpulse: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    print(json.dumps(asdict(audit), default=str))


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], args[args.index("--env") + 1], args[args.index("--wait") + 1] if "--wait" in args else None)
