"""The floors, enforced: imports only point down.

    floor 1  fhirpulse.core            config, AWS clients, logs, terminology (shipped to Glue)
    floor 2  spark_jobs, generator     job code and the generator; each uses only floor 1, never the other
             spark_jobs.lake           within it, below the jobs: the table catalog, Hudi, sessions; it never
                                       imports a job (bronze, silver, gold, the entrypoints) nor the sof engine
    floor 3  the rest of fhirpulse     CLI, embedded stack, workflow runner, dependency cache (laptop tooling)
    apart    lambdas                   each Lambda imports nothing of ours (its zip holds only itself)

Every import counts, including those inside functions (`ast.walk` sees them all).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("fhirpulse", "spark_jobs", "generator", "lambdas")
# module prefix -> what it may import from this project (by module prefix)
ALLOWED = {
    "fhirpulse.core": ("fhirpulse.core",),
    "spark_jobs": ("fhirpulse.core", "spark_jobs"),
    "spark_jobs.lake": ("fhirpulse.core", "spark_jobs.lake"),
    "generator": ("fhirpulse.core", "generator"),
    "lambdas": (),
    "fhirpulse": PACKAGES,
}


def _floor_of(module: str) -> str:
    # the most specific prefix wins (fhirpulse.core before fhirpulse)
    return max((p for p in ALLOWED if module == p or module.startswith(p + ".")), key=len)


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def _is_within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layering_violations(root: Path) -> list[str]:
    """`file:line imports X` for every import of this project's code that points up or sideways."""
    problems = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
            allowed = ALLOWED[_floor_of(module)]
            for line, name in _imports(path, module):
                if any(_is_within(name, p) for p in PACKAGES) and not any(_is_within(name, a) for a in allowed):
                    problems.append(f"{path.relative_to(root)}:{line} ({_floor_of(module)}) imports {name}")
    return problems


def test_imports_only_point_down():
    assert layering_violations(REPO) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
    return tmp_path


def test_a_job_importing_the_cli_or_the_stack_inside_a_function_is_caught(tmp_path):
    root = _tree(tmp_path, {
        "spark_jobs/bronze/job.py": "def run():\n    from fhirpulse.stack import resolve_stack_values\n",
        "spark_jobs/lake/session.py": "import fhirpulse.deps\n",
        "spark_jobs/ok.py": "from fhirpulse.core.config import Config\nimport pyspark\n",
    })
    assert layering_violations(root) == [
        "spark_jobs/bronze/job.py:2 (spark_jobs) imports fhirpulse.stack.resolve_stack_values",
        "spark_jobs/lake/session.py:1 (spark_jobs.lake) imports fhirpulse.deps",
    ]


def test_the_lake_importing_a_job_is_caught(tmp_path):
    root = _tree(tmp_path, {
        "spark_jobs/lake/tables.py": "from spark_jobs.lake.hudi import HudiTable\nfrom spark_jobs.gold import stays\n",
        "spark_jobs/silver/job.py": "from spark_jobs.lake.tables import resource_table\n",
    })
    assert layering_violations(root) == ["spark_jobs/lake/tables.py:2 (spark_jobs.lake) imports spark_jobs.gold.stays"]


def test_core_importing_upwards_and_generator_importing_jobs_are_caught(tmp_path):
    root = _tree(tmp_path, {
        "fhirpulse/core/aws.py": "from fhirpulse.stack.state import load_state\n",
        "fhirpulse/core/config/__init__.py": "from ..errors import ConfigError\nfrom ...stack import resolve_stack_values\n",
        "generator/runner.py": "from spark_jobs.bronze import records\n",
        "fhirpulse/cli/run.py": "from spark_jobs.bronze.job import run_bronze\nfrom generator import runner\n",
        "lambdas/ingest_trigger/handler.py": "import boto3\nfrom fhirpulse.core import aws\n",
    })
    assert layering_violations(root) == [
        "fhirpulse/core/aws.py:1 (fhirpulse.core) imports fhirpulse.stack.state.load_state",
        "fhirpulse/core/config/__init__.py:2 (fhirpulse.core) imports fhirpulse.stack.resolve_stack_values",
        "generator/runner.py:1 (generator) imports spark_jobs.bronze.records",
        "lambdas/ingest_trigger/handler.py:2 (lambdas) imports fhirpulse.core.aws",
    ]


# Modules split out of one file keep one direction among themselves: each may import only those before it.
SPLITS = (
    ("generator.planning", "generator.worker", "generator.runner"),
    ("fhirpulse.deps._common", "fhirpulse.deps.maven", "fhirpulse.deps.trino", "fhirpulse.deps.jdk",
     "fhirpulse.deps.jars", "fhirpulse.deps"),
)


def _module_path(module: str) -> Path:
    base = REPO / module.replace(".", "/")
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def split_violations(chain: tuple[str, ...]) -> list[str]:
    """Imports from a module of `chain` to a module after it (an import belongs to the most specific one)."""
    problems = []
    for position, module in enumerate(chain):
        for line, name in _imports(_module_path(module), module):
            owners = [i for i, other in enumerate(chain) if _is_within(name, other)]
            target = max(owners, key=lambda i: len(chain[i]), default=None)
            if target is not None and target > position:
                problems.append(f"{module}:{line} imports {name}, which comes after it")
    return problems


def test_split_modules_import_only_the_ones_before_them():
    assert [p for chain in SPLITS for p in split_violations(chain)] == []
    # and the check sees a violation: the runner comes after the worker
    assert split_violations(("generator.runner", "generator.worker")) != []
