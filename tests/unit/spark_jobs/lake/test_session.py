"""Session helpers on the unit-test session."""

from __future__ import annotations

import pytest

from spark_jobs.lake.session import session_conf

KEY = "spark.sql.inMemoryColumnarStorage.compressed"


def test_session_conf_sets_then_restores_a_value(spark):
    spark.conf.set(KEY, "true")
    with session_conf(spark, {KEY: "false"}):
        assert spark.conf.get(KEY) == "false"
    assert spark.conf.get(KEY) == "true"


def test_session_conf_restores_after_an_error_and_unsets_what_was_unset(spark):
    key = "fhirpulse.test.only"
    with pytest.raises(RuntimeError), session_conf(spark, {key: "x"}):
        assert spark.conf.get(key) == "x"
        raise RuntimeError("boom")
    assert spark.conf.get(key, None) is None


def _conf(builder) -> dict[str, str]:
    return dict(builder._options)


def test_a_cluster_session_ships_the_job_library_and_keeps_executors_on_utc(tmp_path):
    from pathlib import Path

    from fhirpulse.core.config import SparkConfig
    from spark_jobs.lake.session import LocalRuntime, _local_builder

    library = tmp_path / "fhirpulse_jobs.zip"
    runtime = LocalRuntime(jars=(Path("/j/a.jar"), Path("/j/b.jar")), py_files=(library,))
    cluster = _conf(_local_builder(SparkConfig(master="spark://127.0.0.1:7077"), "t", runtime))
    assert cluster["spark.master"] == "spark://127.0.0.1:7077"
    assert cluster["spark.submit.pyFiles"] == str(library)  # as Glue ships --extra-py-files
    assert cluster["spark.jars"] == "/j/a.jar,/j/b.jar"
    assert cluster["spark.executor.extraJavaOptions"] == "-Duser.timezone=UTC"
    assert (cluster["spark.driver.host"], cluster["spark.driver.bindAddress"]) == ("127.0.0.1", "127.0.0.1")
    local = _conf(_local_builder(SparkConfig(), "t", runtime))
    assert "spark.submit.pyFiles" not in local and "spark.executor.memory" not in local
    # in a container, executors elsewhere reach the driver by its name; it listens on every interface
    compose = _conf(_local_builder(SparkConfig(master="spark://spark-master:7077", driver_host="jobs"), "t", None))
    assert (compose["spark.driver.host"], compose["spark.driver.bindAddress"]) == ("jobs", "0.0.0.0")


@pytest.mark.parametrize(("jit", "input_mb", "quick"), [
    ("auto", 10, True), ("auto", 300, False), ("auto", None, False),  # no size known: the JVM's default
    ("quick", None, True), ("quick", 10_000, True), ("full", 1, False),
])
def test_the_driver_jvm_compiles_with_c1_only_for_small_runs(jit, input_mb, quick):
    from fhirpulse.core.config import SparkConfig
    from spark_jobs.lake.session import QUICK_JIT_OPTION, _local_builder

    spark = SparkConfig(jit=jit, quick_jit_max_mb=256)
    input_bytes = None if input_mb is None else input_mb * 1024 * 1024
    options = _conf(_local_builder(spark, "t", None, input_bytes))["spark.driver.extraJavaOptions"]
    assert options.startswith("-Duser.timezone=UTC")
    assert (QUICK_JIT_OPTION in options.split()) == quick
