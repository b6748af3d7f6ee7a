"""No secrets in the repository: detect-secrets over every tracked file finds only the emulator's `test`
credentials and pinned checksums (which it mistakes for keys), each checked here by what the line holds."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from fhirpulse.core.config import REPO_ROOT
from fhirpulse.deps.tools import tool_path

# What a finding may be: the emulator's credential `test`, or a SHA-256 that pins a download.
_EMULATOR_CREDENTIAL = re.compile(r"""(secret|access)[_a-z]*["']?\s*[:=]\s*["']?test["']?\s*[,}]*\s*$""", re.I)
_PINNED_CHECKSUM = re.compile(r"""^[A-Z0-9_]*SHA256\s*=\s*"[0-9a-f]{64}"$""")


def test_the_only_secrets_detect_secrets_finds_are_the_emulator_s_test_keys_and_checksums():
    scanner = tool_path("detect-secrets")
    if not scanner.exists():
        pytest.skip(f"detect-secrets not installed ({scanner}): run `fhirpulse deps tools detect-secrets`")
    done = subprocess.run([str(scanner), "scan"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    findings = json.loads(done.stdout)["results"]
    unexplained = []
    for path, items in findings.items():
        lines = (REPO_ROOT / path).read_text().splitlines()
        for item in items:
            line = lines[item["line_number"] - 1].strip()
            if not (_EMULATOR_CREDENTIAL.search(line) or _PINNED_CHECKSUM.match(line)):
                unexplained.append(f"{path}:{item['line_number']}: {item['type']}: {line[:80]}")
    assert unexplained == [], "\n".join(unexplained)
    assert findings, "the scan found nothing at all, not even the emulator keys: is it scanning the repo?"
