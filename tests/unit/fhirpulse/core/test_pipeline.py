"""The pipeline definition: the repo's file is valid, and a bad one fails naming the key and the reason."""

import json
import re
import tomllib

import pytest
from packaging.requirements import Requirement

from fhirpulse.core.config import REPO_ROOT, ConfigError
from fhirpulse.core.config.pipeline import HUDI_SPARK_CONF, load_pipeline
from tests.unit.fhirpulse.core.helpers import conf_argument

_GLUE = {"spark_conf": {"spark.serializer": "org.apache.spark.serializer.KryoSerializer"}}


def test_the_repo_pipeline_runs_bronze_then_silver_then_gold_each_after_the_previous():
    pipeline = load_pipeline()
    assert pipeline.names == ["bronze", "silver", "gold"]
    assert [job.after for job in pipeline.jobs] == [(), ("bronze",), ("silver",)]


def test_glue_jobs_get_the_spark_settings_a_local_session_has():
    # the repo's file does not restate them: the model's default is the one copy
    assert "spark_conf" not in json.loads((REPO_ROOT / "config/workflow/pipeline.json").read_text())["glue"]
    glue = load_pipeline().glue
    assert glue.spark_conf == dict(HUDI_SPARK_CONF)
    assert glue.version == "5.0"
    # one --conf carrying the others, keys sorted as Terraform iterates a map
    parts = conf_argument(glue).split(" --conf ")
    assert parts == sorted(f"{k}={v}" for k, v in HUDI_SPARK_CONF.items())


def test_glue_python_modules_are_pinned_within_the_project_requirements():
    declared = {Requirement(r).name: Requirement(r) for r in
                tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    for spec in load_pipeline().glue.python_modules:
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9.]+)", spec).groups()
        assert declared[name].specifier.contains(version), spec


def _write(tmp_path, jobs, glue=None) -> object:
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps({"glue": _GLUE if glue is None else glue, "jobs": jobs}))
    return path


@pytest.mark.parametrize(("glue", "problem"), [
    ({"spark_conf": {}}, r"glue\.spark_conf: Dictionary should have at least 1 item"),
    (_GLUE | {"version": "4.0"}, r"glue\.version: Input should be '5\.0'"),
    (_GLUE | {"arguments": {"--conf": "x=1"}}, r"arguments: \['--conf'\] are built from the other keys"),
    (_GLUE | {"arguments": {"datalake-formats": "hudi"}}, r"Glue parameters start with '--'"),
])
def test_a_bad_glue_runtime_fails_naming_the_key(tmp_path, glue, problem):
    with pytest.raises(ConfigError, match=problem):
        load_pipeline(_write(tmp_path, [{"name": "bronze", "description": "b"}], glue))


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
