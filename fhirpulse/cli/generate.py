"""`fhirpulse generate`: synthetic, clinically coherent FHIR R4 landed in a local folder or S3.

Parameters come from the `generator` section of config/<env>.json; every flag below overrides one field,
and `--param key=value` overrides any other field of that section.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from fhirpulse.cli.common import EnvOption, bind_or_exit, config_or_exit, fail
from fhirpulse.core.aws import client
from fhirpulse.core.config import Config, GeneratorConfig
from fhirpulse.core.errors import validation_problems
from generator.params import ParameterError
from generator.report import local_summary_name, print_summary, summary_document, summary_key
from generator.runner import JobSpec, generate_batch
from generator.writers.sinks import LocalDestination, S3Destination
from generator.writers.targets import Target, TargetError, parse_target


class OutputFormat(StrEnum):
    ndjson = "ndjson"
    bundle = "bundle"


class BundleMethod(StrEnum):
    PUT = "PUT"
    POST = "POST"


_PARAM = "Clinical parameters (default: config generator section)"
_OUTPUT = "Output"
_DAY = ["%Y-%m-%d"]


def _clinical(help_text: str, **extra: Any) -> typer.Option:
    return typer.Option(rich_help_panel=_PARAM, help=help_text, **extra)


OutOption = Annotated[str, typer.Option(
    "--out", "-o", rich_help_panel=_OUTPUT,
    help="Where to write: a local DIR, s3://bucket/prefix, or 'raw' (= s3.bucket + s3.raw_prefix of the config, "
         "via the configured endpoint).")]
BatchOption = Annotated[int, typer.Option(
    min=1, help="Batch number. Batch N is as of end_date + (N-1) x batch_interval_days; N > 1 also re-emits "
                "--update-fraction of earlier batches' patients with their changes (same ids, newer "
                "lastUpdated). Use the same seed and parameters for every batch.")]
FormatOption = Annotated[OutputFormat, typer.Option(
    "--format", rich_help_panel=_OUTPUT,
    help="ndjson: Bulk Data, one file per resource type per batch. bundle: one transaction Bundle per patient "
         "(Synthea style) plus a hospitalInformation bundle.")]
ParamOption = Annotated[list[str] | None, typer.Option(
    "--param", "-p", rich_help_panel=_PARAM, metavar="KEY=VALUE",
    help="Any generator config field, value as JSON (e.g. -p los_dispersion=2 "
         "-p 'comorbidity_prevalence={\"copd\": 0.3}').")]


def generate(
    env: EnvOption = None,
    out: OutOption = "raw",
    patients: Annotated[int | None, typer.Option("--patients", "-n", help="New patients in this batch.")] = None,
    seed: Annotated[int | None, typer.Option(help="Master seed: same seed + parameters -> same bytes.")] = None,
    batch: BatchOption = 1,
    update_fraction: Annotated[float | None, typer.Option(
        help="Share of each earlier batch's patients an update batch re-emits.")] = None,
    earlier_patients: Annotated[int | None, typer.Option(
        help="Patients per earlier batch, if they used a different --patients than this run.")] = None,
    output_format: FormatOption = OutputFormat.ndjson,
    gzip_output: Annotated[bool, typer.Option(
        "--gzip/--no-gzip", rich_help_panel=_OUTPUT, help="gzip every file (.gz appended to the key).")] = False,
    bundle_method: Annotated[BundleMethod, typer.Option(
        rich_help_panel=_OUTPUT, help="Bundle.entry.request.method: PUT keeps ids (upserts), POST lets a "
                                      "server assign them.")] = BundleMethod.PUT,
    validate_sample: Annotated[float | None, typer.Option(
        help="Share of resources validated with fhir.resources R4B models (0 = none, 1 = all; slow).")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Worker processes (default: config, else CPU count). Output does not depend on it.")] = None,
    start_date: Annotated[datetime | None, _clinical("First day admissions can start.", formats=_DAY)] = None,
    end_date: Annotated[datetime | None, _clinical("As-of date of batch 1.", formats=_DAY)] = None,
    hospitals: Annotated[int | None, _clinical("Hospital Organizations.")] = None,
    admissions_per_patient: Annotated[float | None, _clinical("Mean index (non-readmission) admissions per "
                                                              "patient.")] = None,
    los_mean: Annotated[float | None, _clinical("Mean length of stay, calendar days.")] = None,
    death_probability: Annotated[float | None, _clinical("In-hospital death probability per admission.")] = None,
    hai_probability: Annotated[float | None, _clinical("Hospital-acquired infection probability per "
                                                       "admission.")] = None,
    poa_infection_probability: Annotated[float | None, _clinical("Infection-present-on-admission probability "
                                                                 "per admission.")] = None,
    readmission_probability: Annotated[float | None, _clinical("30-day readmission probability per eligible "
                                                               "discharge.")] = None,
    param: ParamOption = None,
    summary_file: Annotated[Path | None, typer.Option(
        rich_help_panel=_OUTPUT, help="Also write the run summary JSON here.")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Generate synthetic FHIR R4 (Patient, Encounter, Condition, Observation, Organization) with clinically
    coherent stays, deaths, hospital-acquired infections and readmissions, and land it locally or in S3.

    Example: fhirpulse generate -n 10000 --out raw --gzip; then fhirpulse generate -n 1000 --batch 2.
    """
    cfg = config_or_exit(env)
    overrides = {
        "patients": patients, "seed": seed, "update_fraction": update_fraction, "validate_sample": validate_sample,
        "workers": workers, "hospitals": hospitals, "admissions_per_patient": admissions_per_patient,
        "los_mean_days": los_mean, "in_hospital_death_probability": death_probability,
        "hai_probability": hai_probability, "poa_infection_probability": poa_infection_probability,
        "readmission_probability": readmission_probability,
        "start_date": start_date.date() if start_date else None, "end_date": end_date.date() if end_date else None,
    }
    params = _generator_config(cfg.generator, {k: v for k, v in overrides.items() if v is not None}, param or [])
    job = JobSpec(config=params, batch=batch, output_format=output_format.value, gzip=gzip_output,
                  bundle_method=bundle_method.value, earlier_patients=earlier_patients)
    _run(cfg, job, out, summary_file, progress)


def _run(cfg: Config, job: JobSpec, out: str, summary_file: Path | None, progress: bool) -> None:
    """Generate the batch to `out` with a progress bar, then save and print its summary."""
    try:
        target = parse_target(out, cfg)
    except TargetError as err:
        fail(str(err), code=2)
    if target.is_s3:
        cfg = bind_or_exit(cfg)  # S3 via the configured endpoint ('stack' = the running stack)
    console = Console(stderr=True)
    destination = _destination(cfg, job.config, target)
    with _progress_bar(console, progress) as (started, advanced):
        try:
            result = generate_batch(job, target, destination, on_start=started, on_progress=advanced)
        except (ParameterError, TargetError) as err:
            fail(str(err), code=2)
    summary = summary_document(job, target, result)
    _save_summary(cfg, job.config, target, result.label, summary, summary_file, console)
    print_summary(console, summary)
    if result.invalid:
        fail(f"{result.invalid} of {result.validated} sampled resources are not valid R4B; first: "
             f"{result.validation_errors[:3]}", code=1)


@contextmanager
def _progress_bar(console: Console, enabled: bool) -> Iterator[tuple[Callable, Callable]]:
    """A patients progress bar; yields the (on_start, on_progress) callbacks generate_batch takes."""
    bar = Progress(TextColumn("[bold]generating"), BarColumn(), MofNCompleteColumn(), TextColumn("patients"),
                   TextColumn("{task.fields[resources]:,} resources"), TimeElapsedColumn(), TimeRemainingColumn(),
                   console=console, disable=not enabled, transient=True)
    task = bar.add_task("generate", total=None, resources=0)

    def started(total_patients: int) -> None:
        bar.update(task, total=total_patients)
        bar.start()

    def advanced(patients_done: int, resources_done: int) -> None:
        bar.update(task, advance=patients_done, resources=bar.tasks[0].fields["resources"] + resources_done)

    try:
        yield started, advanced
    finally:
        bar.stop()


def _generator_config(base: GeneratorConfig, overrides: dict[str, Any], params: list[str]) -> GeneratorConfig:
    data = base.model_dump()
    data.update(overrides)
    for item in params:
        key, sep, raw = item.partition("=")
        if not sep or key not in GeneratorConfig.model_fields:
            fail(f"--param {item!r}: expected KEY=VALUE with KEY one of {sorted(GeneratorConfig.model_fields)}",
                  code=2)
        try:
            data[key] = json.loads(raw)
        except json.JSONDecodeError:
            data[key] = raw  # plain strings and dates need no JSON quotes
    try:
        return GeneratorConfig.model_validate(data)
    except ValidationError as err:
        fail(f"invalid generator parameters: {'; '.join(validation_problems(err))}", code=2)


def _destination(cfg: Config, params: GeneratorConfig, target: Target):
    if not target.is_s3:
        return LocalDestination(target.root)
    return S3Destination(client(cfg, "s3"), target.bucket, params.s3_part_size_mb * 1024 * 1024)


def _save_summary(cfg: Config, params: GeneratorConfig, target: Target, label: str, summary: dict,
                  summary_file: Path | None, console: Console) -> None:
    """Locally next to the output (not in a resource folder); on S3 under generator.summary_prefix."""
    payload = orjson.dumps(summary, option=orjson.OPT_INDENT_2, default=_json_default)
    if target.is_s3:
        key = summary_key(params.summary_prefix, label)
        client(cfg, "s3").put_object(Bucket=target.bucket, Key=key, Body=payload, ContentType="application/json")
        console.print(f"summary: s3://{target.bucket}/{key}")
    else:
        path = target.root / local_summary_name(label)
        path.write_bytes(payload)
        console.print(f"summary: {path}")
    if summary_file is not None:
        summary_file.parent.mkdir(parents=True, exist_ok=True)
        summary_file.write_bytes(payload)


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value))
