"""What compose's LocalStack ready hook runs — `python -m fhirpulse.stack.provision --env … --deploy-trigger-
lambda` — against the embedded stack's moto server: the config's resources and the trigger Lambda."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fhirpulse.core import aws
from fhirpulse.core.config import CONFIG_DIR_VAR, load_config
from tests.integration.helpers import isolated_config

pytestmark = pytest.mark.integration


def test_the_ready_hook_command_provisions_and_deploys_the_trigger(cfg, tmp_path, monkeypatch):
    folder = isolated_config("hooktest", tmp_path / "config", aws={"endpoint_url": cfg.aws.endpoint_url})
    env = os.environ | {CONFIG_DIR_VAR: str(folder)}
    done = subprocess.run([sys.executable, "-m", "fhirpulse.stack.provision", "--env", "hooktest",
                           "--deploy-trigger-lambda"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    monkeypatch.setenv(CONFIG_DIR_VAR, str(folder))
    hook = load_config("hooktest")
    assert out["trigger_function_arn"].endswith(f":function:{hook.workflow.name}-trigger")
    function = aws.client(hook, "lambda").get_function(FunctionName=f"{hook.workflow.name}-trigger")["Configuration"]
    assert (function["Runtime"], function["Handler"]) == ("python3.12", "handler.handler")
    assert function["Environment"]["Variables"]["WORKFLOW_NAME"] == hook.workflow.name
    assert aws.client(hook, "s3").head_bucket(Bucket=hook.s3.bucket)
    # a second run updates the code in place
    again = subprocess.run([sys.executable, "-m", "fhirpulse.stack.provision", "--env", "hooktest",
                            "--deploy-trigger-lambda"], capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0, again.stderr
