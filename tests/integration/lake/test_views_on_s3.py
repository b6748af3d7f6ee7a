"""On Glue the silver job reads its ViewDefinitions from S3 (Terraform uploads config/views there)."""

from __future__ import annotations

import pytest

from fhirpulse.core import aws
from fhirpulse.core.config import REPO_ROOT
from spark_jobs.silver.job import load_views
from spark_jobs.sof import ViewDefinitionError

pytestmark = pytest.mark.integration


def _at(cfg, views_dir: str):
    return cfg.model_copy(update={"silver": cfg.silver.model_copy(update={"views_dir": views_dir})})


def test_views_on_s3_are_the_views_of_the_checkout(cfg):
    s3, bucket, prefix = aws.client(cfg, "s3"), cfg.s3.bucket, "scripts/views-on-s3-test"
    for path in sorted((REPO_ROOT / "config" / "views").glob("*.json")):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{path.name}", Body=path.read_bytes())
    s3.put_object(Bucket=bucket, Key=f"{prefix}/README.md", Body=b"not a view")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/old/patient.json", Body=b"{}")  # not in the folder itself
    from_s3 = load_views(_at(cfg, f"s3://{bucket}/{prefix}"))
    assert from_s3 == load_views(cfg)
    assert from_s3[0].name == "patient"

    with pytest.raises(ViewDefinitionError, match=rf"s3://{bucket}/scripts/nothing-here: no ViewDefinitions"):
        load_views(_at(cfg, f"s3://{bucket}/scripts/nothing-here"))
    s3.put_object(Bucket=bucket, Key="scripts/broken-views/x.json", Body=b"{not json")
    with pytest.raises(ViewDefinitionError, match=rf"s3://{bucket}/scripts/broken-views/x.json: not valid JSON"):
        load_views(_at(cfg, f"s3://{bucket}/scripts/broken-views"))
