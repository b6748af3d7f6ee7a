"""`fhirpulse package`: the zips Terraform deploys to Glue and Lambda."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fhirpulse.deploy.package import DIST_DIR, build_all


def package(
    out: Annotated[Path, typer.Option(help="Where to write the zips (Terraform reads dist/ of the checkout).")]
    = DIST_DIR,
) -> None:
    """Build the Glue job library (fhirpulse.core + spark_jobs, for --extra-py-files) and each Lambda's zip.

    Run it before `terraform plan/apply -var target=aws`; the zips are reproducible, so an unchanged
    checkout changes nothing on the next apply. Example: fhirpulse package && cd terraform && terraform plan
    -var target=aws -var-file=environments/dev.tfvars
    """
    table = Table("artifact", "files", "bytes", "md5")
    for artifact in build_all(out):
        table.add_row(str(artifact.path), str(artifact.files), f"{artifact.path.stat().st_size:,}", artifact.md5)
    Console().print(table)
