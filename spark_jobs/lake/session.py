"""The single source of Spark and Hudi settings, used by every job and test.

On Glue the session comes from the GlueContext (Glue 5.0 adds Hudi through `--datalake-formats hudi`; the
job definition must pass HUDI_SPARK_CONF as `--conf`). Locally it is a `local[N]` session sized by the
config's `spark` section, on the Java 17 and jars handed in as a `LocalRuntime`, `s3://` mapped to S3A so
that table paths are the same strings as on Glue, and S3 pointed at the emulator from config.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import SparkSession

from fhirpulse.core import aws
from fhirpulse.core.config import Config, SparkConfig
from fhirpulse.core.config.pipeline import HUDI_SPARK_CONF

# Local JVM logging: errors on the terminal, warnings in a file (see the file); Glue keeps its own.
LOG4J2_PROPERTIES = Path(__file__).with_name("log4j2.properties")
_DRIVER_JAVA_OPTIONS = " ".join([
    "-Duser.timezone=UTC",
    "-Djdk.attach.allowAttachSelf=true",
    f"-Dlog4j2.configurationFile={LOG4J2_PROPERTIES.as_uri()}",
])

# SQL settings every session gets, Glue's included (set on the running session, so they also reach one that
# Glue made).
SESSION_SQL_CONF: Mapping[str, str] = {
    # A Spark 3.5 bug (found by tests/unit/property/test_fhirpath.py): with nested schema pruning on, an
    # `inline` whose lambda reads a parsed field that the optimizer later folds away (`status[1]`, a CASE WHEN
    # that can never be true) returns NO rows at all. The SQL-on-FHIR views read JSON text, not nested
    # Parquet, so the pruning saves nothing there.
    "spark.sql.optimizer.nestedSchemaPruning.enabled": "false",
}

_LOCAL_CONF: Mapping[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.adaptive.enabled": "true",
}


def on_glue() -> bool:
    """True inside a Glue job run (the awsglue package is only there)."""
    try:
        import awsglue  # noqa: F401  # type: ignore[import-not-found]
    except ImportError:
        return False
    return True


def s3a_conf(cfg: Config, endpoint: str | None) -> dict[str, str]:
    """Hadoop S3A settings: `s3://` served by S3A; an emulator endpoint with path-style and static keys."""
    conf = {
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint.region": cfg.region,
        "spark.hadoop.fs.s3a.fast.upload": "true",
    }
    if endpoint:
        conf |= {
            "spark.hadoop.fs.s3a.endpoint": endpoint,
            "spark.hadoop.fs.s3a.path.style.access": "true",
            "spark.hadoop.fs.s3a.connection.ssl.enabled": str(endpoint.startswith("https")).lower(),
            "spark.hadoop.fs.s3a.aws.credentials.provider":
                "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
            "spark.hadoop.fs.s3a.access.key": cfg.aws.access_key_id or "",
            "spark.hadoop.fs.s3a.secret.key": cfg.aws.secret_access_key or "",
            "spark.hadoop.fs.s3a.change.detection.mode": "none",
            "spark.hadoop.fs.s3a.attempts.maximum": "3",
            "spark.hadoop.fs.s3a.retry.limit": "3",
        }
    return conf


@dataclass(frozen=True)
class LocalRuntime:
    """What a local (non-Glue) Spark takes from the machine: a Java 17 home and the lakehouse jars.

    The dependency cache (`fhirpulse.deps.local_runtime()`) builds it; job code only receives it, so code
    shipped to Glue never imports the cache. Without one, the JVM's launcher (spark-submit with --jars,
    or Glue) is trusted to have provided both.
    """

    java_home: Path | None = None
    jars: tuple[Path, ...] = ()
    py_files: tuple[Path, ...] = ()  # the job library zip, for executors on a cluster (Glue: --extra-py-files)


def _cluster_conf(spark: SparkConfig, runtime: LocalRuntime | None) -> dict[str, str]:
    """A standalone cluster's executors: this interpreter for Python workers, UTC like the driver, one
    executor per worker, and the job library shipped the way Glue ships --extra-py-files."""
    conf = {
        "spark.executor.memory": spark.executor_memory,
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
        # the data is on S3, never local to an executor: waiting for locality (3 s per task set by default)
        # only delays Hudi's many small stages
        "spark.locality.wait": "0s",
    }
    if runtime is not None and runtime.py_files:
        conf["spark.submit.pyFiles"] = ",".join(str(p) for p in runtime.py_files)
    return conf


# C1 only: the JIT's second tier (C2) spends the first minute of a JVM compiling on the same 2 cores the job
# needs; a small run ends before C2's code pays back, a big one needs it.
QUICK_JIT_OPTION = "-XX:TieredStopAtLevel=1"


def quick_jit(spark: SparkConfig, input_bytes: int | None) -> bool:
    """Whether the local driver JVM compiles with C1 only (`spark.jit`; 'auto' needs the run's input size)."""
    if spark.jit != "auto":
        return spark.jit == "quick"
    return input_bytes is not None and input_bytes < spark.quick_jit_max_mb * 1024 * 1024


def _local_builder(spark: SparkConfig, app_name: str, runtime: LocalRuntime | None,
                   input_bytes: int | None = None) -> SparkSession.Builder:
    if runtime is not None and runtime.java_home is not None:
        os.environ["JAVA_HOME"] = str(runtime.java_home)  # chosen explicitly, never the PATH's java
    loopback = spark.driver_host == "127.0.0.1"
    if loopback:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # bind to loopback only
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers run this interpreter
    conf = dict(_LOCAL_CONF) | {
        # executors reach the driver at driver_host; on loopback it listens there only
        "spark.driver.host": spark.driver_host,
        "spark.driver.bindAddress": "127.0.0.1" if loopback else "0.0.0.0",
        "spark.driver.memory": spark.driver_memory,
        "spark.driver.extraJavaOptions": " ".join(
            [_DRIVER_JAVA_OPTIONS] + ([QUICK_JIT_OPTION] if quick_jit(spark, input_bytes) else [])),
        "spark.sql.shuffle.partitions": str(spark.shuffle_partitions),
        "spark.default.parallelism": str(spark.shuffle_partitions),
    }
    if runtime is not None and runtime.jars:
        conf["spark.jars"] = ",".join(str(j) for j in runtime.jars)  # the driver serves them to executors
    if spark.is_cluster:
        conf |= _cluster_conf(spark, runtime)
    builder = SparkSession.builder.appName(app_name).master(spark.master)
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder


SPARK_LOG_ENV = "FHIRPULSE_SPARK_LOG"


@contextmanager
def _jvm_stdout_to_log() -> Iterator[None]:
    """Start the JVM with its stdout in the Spark log file ($FHIRPULSE_SPARK_LOG, when set): libraries
    inside it (Hudi's JOL object sizer) print warnings with System.out, which log4j2 cannot filter.
    Python's own stdout is restored as soon as the JVM is up."""
    from pyspark import SparkContext

    path = os.environ.get(SPARK_LOG_ENV)
    if not path or SparkContext._gateway is not None:  # no file asked for, or the JVM runs already
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    saved, log = os.dup(1), os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(log)


def _with_sql_conf(session: SparkSession) -> SparkSession:
    for key, value in SESSION_SQL_CONF.items():
        session.conf.set(key, value)
    return session


def _get_or_create(builder: SparkSession.Builder) -> SparkSession:
    with _jvm_stdout_to_log():
        return _with_sql_conf(builder.getOrCreate())


def plain_session(spark: SparkConfig, app_name: str, runtime: LocalRuntime | None = None) -> SparkSession:
    """A local session without the lakehouse (no Hudi, no S3): unit tests and local-file commands."""
    return _get_or_create(_local_builder(spark, app_name, runtime))


def build_session(cfg: Config, app_name: str, runtime: LocalRuntime | None = None,
                  input_bytes: int | None = None) -> SparkSession:
    """The lakehouse session: Hudi + S3 (emulated or real) + the Glue catalog sync settings. `input_bytes`:
    what the run will read, when the caller knows (it picks the JIT, `spark.jit`)."""
    if on_glue():
        from awsglue.context import GlueContext  # type: ignore[import-not-found]
        from pyspark.context import SparkContext

        return _with_sql_conf(GlueContext(SparkContext.getOrCreate()).spark_session)
    if cfg.is_emulated:
        # Hudi's Glue sync builds its SDK v2 client from the default chain (it ignores hoodie.aws.*keys):
        # hand the emulator's keys to the JVM through the environment it inherits.
        os.environ |= {k: v for k, v in aws.credentials_env(cfg).items() if v}
    builder = _local_builder(cfg.spark, app_name, runtime, input_bytes)
    for key, value in (dict(HUDI_SPARK_CONF) | s3a_conf(cfg, aws.service_endpoint(cfg, "s3"))).items():
        builder = builder.config(key, value)
    return _get_or_create(builder)


@contextmanager
def session_conf(spark: SparkSession, settings: Mapping[str, str]) -> Iterator[None]:
    """Runtime SQL settings for the duration of a block, then the previous values back."""
    previous = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
