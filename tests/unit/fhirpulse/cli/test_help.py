"""Every command explains itself: `--help` works without a running stack and says what the command does."""

import pytest
from typer.testing import CliRunner

from fhirpulse.cli import app

COMMANDS = [
    ["--help"], ["run", "--help"], ["run", "pipeline", "--help"], ["run", "bronze", "--help"],
    ["watch", "--help"], ["status", "--help"], ["kpis", "--help"], ["demo", "--help"], ["stack", "--help"],
    ["generate", "--help"], ["views", "--help"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_help_needs_no_stack(args):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def _help(*args: str) -> str:
    """The help text as plain words (rich draws it in a box)."""
    return " ".join(CliRunner().invoke(app, [*args, "--help"]).output.replace("│", " ").split())


def test_the_workflow_commands_say_what_they_do():
    assert "One workflow run at a time" in _help("run", "pipeline")
    assert "one workflow run per burst of uploads" in _help("watch")
    assert "newest first" in _help("status") and "--format" in _help("status")
    assert "--log-format" in _help()
