"""The pipeline definition: the repo's file is valid, and a bad one fails naming the key and the reason."""

import json

import pytest

from fhirpulse.core.config import ConfigError
from fhirpulse.core.config.pipeline import load_pipeline


def test_the_repo_pipeline_runs_bronze_then_silver_then_gold_each_after_the_previous():
    pipeline = load_pipeline()
    assert pipeline.names == ["bronze", "silver", "gold"]
    assert [job.after for job in pipeline.jobs] == [(), ("bronze",), ("silver",)]


def _write(tmp_path, jobs) -> object:
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps({"jobs": jobs}))
    return path


@pytest.mark.parametrize(("jobs", "problem"), [
    ([{"name": "silver", "description": "s", "after": ["bronze"]}, {"name": "bronze", "description": "b"}],
     r"job 'silver' runs after \['bronze'\], which must be listed before it"),
    ([{"name": "bronze", "description": "b"}, {"name": "bronze", "description": "again", "after": ["bronze"]}],
     "job 'bronze' is listed twice"),
    ([{"name": "platinum", "description": "p"}], r"jobs\.0\.name: Input should be 'bronze', 'silver' or 'gold'"),
    ([{"name": "bronze", "description": "b", "worker_type": "G.3X"}], r"jobs\.0\.worker_type"),
    ([{"name": "bronze", "description": "b", "workers": 1}], r"jobs\.0\.workers: Input should be greater"),
    ([{"name": "bronze", "description": "b", "retries": 2}], r"jobs\.0\.retries: Extra inputs are not permitted"),
    ([], r"jobs: Tuple should have at least 1 item"),
])
def test_a_bad_pipeline_fails_naming_the_key_and_the_reason(tmp_path, jobs, problem):
    with pytest.raises(ConfigError, match=problem) as err:
        load_pipeline(_write(tmp_path, jobs))
    assert str(err.value).startswith(f"invalid pipeline {tmp_path / 'pipeline.json'}:")


def test_a_missing_or_unreadable_pipeline_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match="pipeline definition .*nope.json not found"):
        load_pipeline(tmp_path / "nope.json")
    bad = tmp_path / "pipeline.json"
    bad.write_text('{"jobs": [')
    with pytest.raises(ConfigError, match=r"invalid pipeline .*pipeline.json: line 1 column 11"):
        load_pipeline(bad)
