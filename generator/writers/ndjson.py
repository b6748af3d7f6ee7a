"""NDJSON lines of one resource type, held as ~1 MiB blocks.

Bounded-size blocks keep the heap flat: one growing multi-MiB buffer per chunk made glibc keep ever larger
freed areas, and each bytes object orjson returns occupies several KiB, so neither is held for long.
"""

from __future__ import annotations

import zlib

BLOCK_BYTES = 1 << 20
_GZIP_LEVEL = 6
_GZIP_WBITS = 31  # zlib writes a gzip header with mtime 0 and no file name: same input -> same bytes


class NdjsonBlocks:
    __slots__ = ("blocks", "current")

    def __init__(self) -> None:
        self.blocks: list[bytes] = []
        self.current = bytearray()

    def append(self, payload: bytes) -> None:
        current = self.current
        current += payload
        current += b"\n"
        if len(current) >= BLOCK_BYTES:
            self.blocks.append(bytes(current))
            self.current = bytearray()

    def pieces(self) -> list[bytes]:
        return self.blocks + [bytes(self.current)] if self.current else list(self.blocks)


def gzip_member(pieces: list[bytes]) -> list[bytes]:
    """One gzip member holding `pieces`; concatenated members are a valid gzip file."""
    compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
    return [part for part in (*(compressor.compress(p) for p in pieces), compressor.flush()) if part]
