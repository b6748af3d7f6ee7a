"""Terraform's plans, read with `terraform show -json`: real AWS (offline, no credentials) gets Glue 5.0 jobs
that run what the local runner runs; an emulator gets the same platform minus what it cannot run."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from fhirpulse.core.config import load_config, parse_config
from fhirpulse.core.config.pipeline import load_pipeline
from fhirpulse.deploy.package import LIBRARY_ZIP, library_files
from fhirpulse.deps.tools import tool_path
from spark_jobs.entrypoints import glue_job
from spark_jobs.lake.job_args import glue_arguments
from tests.integration.terraform.conftest import TerraformRoot, _missing, make_root, resources
from tests.unit.fhirpulse.core.helpers import conf_argument

pytestmark = pytest.mark.integration


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def aws_root(terraform_plugins, tmp_path_factory):
    return make_root(tmp_path_factory.mktemp("tf-aws"), terraform_plugins)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_aws_plan_runs_offline_and_deploys_what_the_local_runner_runs(aws_root, env):
    plan = aws_root.plan_json("-var", "target=aws", "-var", "offline=true", f"-var-file=environments/{env}.tfvars",
                              "-refresh=false")
    cfg, pipeline = load_config(env), load_pipeline()
    objects = {v["key"]: v for v in resources(plan, "aws_s3_object").values()}
    jobs = {v["name"]: v for v in resources(plan, "aws_glue_job").values()}
    assert sorted(jobs) == sorted(cfg.workflow.job_name(j) for j in pipeline.names)

    # the entry script is the very file the local runner imports, uploaded with its MD5 as etag
    script_key = f"{cfg.s3.scripts_prefix}/glue_job.py"
    assert objects[script_key]["etag"] == _md5(Path(glue_job.__file__))
    # the job library is `fhirpulse package`'s zip: exactly fhirpulse.core + spark_jobs
    library_key = f"{cfg.s3.scripts_prefix}/{LIBRARY_ZIP.name}"
    built = aws_root.dir.parent / "dist" / LIBRARY_ZIP
    assert objects[library_key]["etag"] == _md5(built)
    assert sorted(zipfile.ZipFile(built).namelist()) == library_files()
    # the silver views go where the config tells the jobs to read them
    views = sorted(k for k in objects if k.startswith(f"{cfg.s3.scripts_prefix}/views/"))
    assert cfg.silver.views_dir == f"s3://{cfg.s3.bucket}/{cfg.s3.scripts_prefix}/views"
    assert views == sorted(f"{cfg.s3.scripts_prefix}/views/{p.name}" for p in Path("config/views").glob("*.json"))

    for spec in pipeline.jobs:
        job = jobs[cfg.workflow.job_name(spec.name)]
        assert job["glue_version"] == "5.0"
        command = job["command"][0]
        assert (command["name"], command["python_version"], command["script_location"]) == (
            "glueetl", "3", f"s3://{cfg.s3.bucket}/{script_key}")
        assert (job["worker_type"], job["number_of_workers"], job["timeout"]) == \
            (spec.worker_type, spec.workers, spec.timeout_minutes)
        args = job["default_arguments"]
        # every argument the local runner passes (Glue adds --JOB_NAME itself: the job's name)
        local = glue_arguments(cfg, spec.name)
        local_args = dict(zip(local[::2], local[1::2], strict=True))
        assert local_args.pop("--JOB_NAME") == job["name"]
        assert parse_config(json.loads(args["--fhirpulse_config"])) == parse_config(
            json.loads(local_args.pop("--fhirpulse_config")))
        assert {k: args.get(k) for k in local_args} == local_args
        assert args["--extra-py-files"] == f"s3://{cfg.s3.bucket}/{library_key}"
        assert args["--conf"] == conf_argument(pipeline.glue)
        assert args["--datalake-formats"] == "hudi"
        assert args["--additional-python-modules"] == ",".join(pipeline.glue.python_modules)

    # the workflow's order is the pipeline definition's
    triggers = list(resources(plan, "aws_glue_trigger").values())
    start = [t for t in triggers if t["type"] == "ON_DEMAND"]
    assert [a["job_name"] for t in start for a in t["actions"]] == [
        cfg.workflow.job_name(j.name) for j in pipeline.jobs if not j.after]
    waits = {t["actions"][0]["job_name"]: sorted(c["job_name"] for c in t["predicate"][0]["conditions"])
             for t in triggers if t["type"] == "CONDITIONAL"}
    assert waits == {cfg.workflow.job_name(j.name): sorted(cfg.workflow.job_name(a) for a in j.after)
                     for j in pipeline.jobs if j.after}

    # real AWS: point-in-time recovery on the ledger and the lock table, versioning, log retention
    tables = resources(plan, "aws_dynamodb_table").values()
    assert sorted(t["name"] for t in tables) == sorted([cfg.dynamodb.ledger_table, cfg.workflow.state_table])
    assert all(t["point_in_time_recovery"][0]["enabled"] for t in tables)
    assert resources(plan, "aws_s3_bucket_versioning")
    assert all(g["retention_in_days"] == cfg.workflow.log_retention_days
               for g in resources(plan, "aws_cloudwatch_log_group").values())
    (workgroup,) = resources(plan, "aws_athena_workgroup").values()
    assert workgroup["name"] == cfg.athena.workgroup
    assert workgroup["configuration"][0]["result_configuration"][0]["output_location"] == \
        f"s3://{cfg.s3.bucket}/{cfg.athena.results_prefix}/"
    lambdas = list(resources(plan, "aws_lambda_function").values())
    assert [(f["handler"], f["environment"][0]["variables"]["WORKFLOW_NAME"]) for f in lambdas] == [
        ("handler.handler", cfg.workflow.name)]


def test_local_plan_declares_no_compute(terraform_plugins, tmp_path, cfg):
    """target=local against the running embedded stack: no Glue job or Lambda (the local runner and
    `fhirpulse watch` stand in), and no zip is needed."""
    root = make_root(tmp_path, terraform_plugins, package=False)
    plan = root.plan_json("-var", "target=local", "-var", f"aws_endpoint_url={cfg.aws.endpoint_url}")
    types = {r["type"] for r in plan["resource_changes"]}
    assert {"aws_glue_job", "aws_lambda_function", "aws_iam_role"}.isdisjoint(types)
    assert {"aws_glue_workflow", "aws_s3_bucket", "aws_sqs_queue", "aws_sns_topic"} <= types


def test_tflocal_plan_against_the_embedded_stack(terraform_plugins, tmp_path, cfg):
    """`tflocal` (PyPI terraform-local) writes its own provider override: with only AWS_ENDPOINT_URL
    pointing at the stack, and the root's own endpoint variable left at a port nothing listens on, the
    plan still reaches the stack's moto (STS answers the account id)."""
    tflocal = tool_path("tflocal")
    if not tflocal.exists():
        _missing(f"tflocal not installed ({tflocal}): run `fhirpulse deps tools tflocal`")
    root = make_root(tmp_path, terraform_plugins, package=False)
    plan = root.plan_json("-var", "target=local", tool=str(tflocal),
                          extra_env={"AWS_ENDPOINT_URL": cfg.aws.endpoint_url})
    assert any(r["type"] == "aws_glue_workflow" for r in plan["resource_changes"])
    assert not list(root.dir.glob("localstack_providers_override.tf"))  # tflocal cleans up after itself


def test_terraform_is_formatted_valid_and_passes_checkov(terraform_plugins, tmp_path):
    root = make_root(tmp_path, terraform_plugins, package=False)
    root.run("fmt", "-check", "-recursive", "-diff")
    assert "Success" in root.run("validate").stdout
    example = TerraformRoot(root.dir / "examples" / "minimal", root.env)  # the modules used on their own
    example.run("init", f"-plugin-dir={terraform_plugins}")
    assert "Success" in example.run("validate").stdout
    checkov = tool_path("checkov")
    if not checkov.exists():
        _missing(f"checkov not installed ({checkov}): run `fhirpulse deps tools checkov`")
    done = subprocess.run([str(checkov), "-d", str(root.dir), "--framework", "terraform", "--compact",
                           "--skip-download", "-o", "json",
                           # the example calls the same modules the root does; checked once, through the root
                           "--skip-path", "examples"], capture_output=True, text=True, timeout=600,
                          env=root.env | {"BC_SKIP_MAPPING": "TRUE"})
    report = json.loads(done.stdout)
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
              for c in report["results"]["failed_checks"]]
    assert failed == [], "\n".join(failed)
    assert report["summary"]["passed"] > 50
    # every suppression says why
    for check in report["results"]["skipped_checks"]:
        assert len((check.get("check_result", {}).get("suppress_comment") or "").strip()) > 20, check["check_id"]
