"""The end-of-run summary: a JSON document (kept next to the output, never under the raw prefix) and tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from generator.runner import BatchResult, JobSpec
from generator.writers.targets import Target

SUMMARY_NAME = "generation-summary.json"


def summary_document(job: JobSpec, target: Target, result: BatchResult) -> dict[str, Any]:
    total = sum(result.resources.values())
    total_bytes = sum(f["bytes"] for f in result.files)
    return {
        "batch": job.batch,
        "label": result.label,
        "as_of": result.as_of,
        "seed": job.config.seed,
        "format": job.output_format,
        "gzip": job.gzip,
        "target": target.describe(),
        "patients": {"new": result.new_patients, "updated": result.updated_patients},
        "resources": dict(sorted(result.resources.items())),
        "resources_total": total,
        "bytes_total": total_bytes,
        "files": result.files,
        "seconds": round(result.seconds, 3),
        "resources_per_second": round(total / result.seconds) if result.seconds else None,
        "workers": result.workers,
        "validation": {"sampled_fraction": job.config.validate_sample, "checked": result.validated,
                       "failed": result.invalid, "first_errors": result.validation_errors},
        "rates": result.rates.rates(result.model),
        "rates_note": "over the new patients of this batch as shown at its as-of date; definitions in "
                      "generator/README.md",
        "parameters": job.config.model_dump(mode="json"),
    }


def summary_key(summary_prefix: str, label: str) -> str:
    """S3 key of a run summary: under config generator.summary_prefix, a sibling of the raw prefix."""
    return f"{summary_prefix.strip('/')}/{label}/{SUMMARY_NAME}"


def local_summary_name(label: str) -> str:
    return f"generation-summary-{label}.json"


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    output = Table(title=f"Batch {summary['batch']} as of {summary['as_of']} -> {summary['target']}")
    output.add_column("resource type")
    output.add_column("resources", justify="right")
    output.add_column("MB written", justify="right")
    megabytes = {f["resource_type"]: f["bytes"] / 1e6 for f in summary["files"]}
    for resource_type, count in summary["resources"].items():
        size = megabytes.get(resource_type)
        output.add_row(resource_type, f"{count:,}", "" if size is None else f"{size:,.1f}")
    if "Bundle" in megabytes:
        output.add_row("(as Bundles)", "", f"{megabytes['Bundle']:,.1f}")
    output.add_row("total", f"{summary['resources_total']:,}", f"{summary['bytes_total'] / 1e6:,.1f}", style="bold")
    console.print(output)
    rate = summary["resources_per_second"]
    console.print(
        f"{summary['bytes_total'] / 1e6:,.1f} MB in {summary['seconds']:.1f} s "
        f"({rate:,} resources/s, {summary['workers']} workers); patients new {summary['patients']['new']:,}, "
        f"updated {summary['patients']['updated']:,}; validated {summary['validation']['checked']:,} "
        f"(failed {summary['validation']['failed']})"
    )
    rates = Table(title="Clinical rates: requested vs realised (new patients of this batch)")
    for column in ("metric", "requested", "realised", "numerator", "denominator"):
        rates.add_column(column, justify="left" if column == "metric" else "right")
    for row in summary["rates"]:
        rates.add_row(row["metric"], _number(row["requested"]), _number(row["realised"]), str(row["numerator"]),
                      str(row["denominator"]))
    console.print(rates)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
