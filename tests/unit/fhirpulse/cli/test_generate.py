"""`fhirpulse generate` end to end on a local folder."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from fhirpulse.cli import app
from tests.unit.generator.testkit import read_resources


def test_cli_writes_ndjson_and_a_summary_next_to_it(tmp_path):
    result = CliRunner().invoke(app, [
        "generate", "-n", "30", "--out", str(tmp_path), "--workers", "1", "--no-progress", "--seed", "5",
        "--death-probability", "0.2", "-p", "vitals_per_day=1", "-p", "labs_per_day=0", "--validate-sample", "1",
    ])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "generation-summary-batch-00001-seed-5.json").read_text())
    resources = read_resources(tmp_path)
    assert summary["resources"] == {t: len(rows) for t, rows in sorted(resources.items())}
    assert summary["validation"]["checked"] == summary["resources_total"] and summary["validation"]["failed"] == 0
    assert summary["parameters"]["in_hospital_death_probability"] == 0.2
    assert (tmp_path / "Patient" / "dt=2024-12-31" / "batch-00001-seed-5.ndjson").is_file()
    assert not any(p.name.startswith("generation-summary") for p in tmp_path.rglob("*") if p.parent != tmp_path)


def test_cli_rejects_bad_parameters_with_exit_code_2(tmp_path):
    runner = CliRunner()
    bad_flag = runner.invoke(app, ["generate", "--out", str(tmp_path), "--hai-probability", "2"])
    assert bad_flag.exit_code == 2 and "hai_probability" in bad_flag.output
    unknown = runner.invoke(app, ["generate", "--out", str(tmp_path), "-p", "nonsense=1"])
    assert unknown.exit_code == 2
    infeasible = runner.invoke(app, ["generate", "--out", str(tmp_path), "--los-mean", "1.5",
                                     "--hai-probability", "0.5"])
    assert infeasible.exit_code == 2 and "hai_probability" in infeasible.output
    assert not list(tmp_path.iterdir())
