"""SQL clients for the stack's query engine (Trino locally; Athena on AWS comes through the same place)."""

from __future__ import annotations

from urllib.parse import urlsplit


def trino_cursor(url: str, catalog: str, schema: str | None = None, user: str = "fhirpulse"):
    """A DB-API cursor on the Trino server at `url` (http://host:port)."""
    import trino

    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        raise ValueError(f"not a Trino URL with host and port: {url!r}")
    conn = trino.dbapi.connect(host=parts.hostname, port=parts.port, http_scheme=parts.scheme or "http",
                               user=user, catalog=catalog, schema=schema)
    return conn.cursor()


def trino_query(url: str, catalog: str, sql: str, schema: str | None = None,
                user: str = "fhirpulse") -> tuple[list[str], list[list]]:
    """Run one statement; returns (column names, rows)."""
    cur = trino_cursor(url, catalog, schema, user)
    cur.execute(sql)
    rows = cur.fetchall()
    return [d[0] for d in cur.description], rows
