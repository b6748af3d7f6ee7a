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
