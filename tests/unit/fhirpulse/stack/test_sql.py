import pytest

from fhirpulse.stack.sql import trino_cursor


def test_a_trino_url_needs_host_and_port():
    with pytest.raises(ValueError, match="not a Trino URL with host and port: '127.0.0.1'"):
        trino_cursor("127.0.0.1", "hudi")


def test_a_cursor_points_at_the_url_catalog_and_schema():
    cur = trino_cursor("http://127.0.0.1:8089", "hudi", "fhirpulse_local_bronze", user="me")
    conn = cur.connection
    assert (conn.host, conn.port, conn.catalog, conn.schema, conn.user) == (
        "127.0.0.1", 8089, "hudi", "fhirpulse_local_bronze", "me")
