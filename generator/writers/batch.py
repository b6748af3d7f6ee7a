"""The files of one batch: one streaming sink per resource type (NDJSON) or one object per bundle."""

from __future__ import annotations

import os
from contextlib import suppress

from generator.writers.targets import Target, render_key


class BatchWriter:
    def __init__(self, destination, target: Target, *, raw_key_template: str, bundle_key_template: str,
                 batch_label: str, as_of: str, gzip: bool):
        self.destination, self.target = destination, target
        self.raw_key_template, self.bundle_key_template = raw_key_template, bundle_key_template
        self.label, self.as_of = batch_label, as_of
        self.suffix = ".gz" if gzip else ""
        self.sinks: dict[str, object] = {}
        self.keys: dict[str, str] = {}
        self.bundle_bytes = 0
        self.bundle_objects = 0

    def append(self, resource_type: str, pieces: list[bytes]) -> None:
        sink = self._sink(resource_type)
        for piece in pieces:
            sink.write(piece)

    def append_file(self, resource_type: str, path: str) -> None:
        """Append a spilled chunk file, then delete it."""
        self._sink(resource_type).write_file(path)
        os.unlink(path)

    def put_bundle(self, name: str, data: bytes) -> None:
        self.destination.put(self._bundle_key(name), data)
        self.bundle_bytes += len(data)
        self.bundle_objects += 1

    def close(self) -> list[dict]:
        """Finish every file; returns what was written (uri, resource_type, bytes[, objects])."""
        files = []
        for resource_type, sink in sorted(self.sinks.items()):
            sink.close()
            files.append({"uri": self.target.uri(self.keys[resource_type]), "resource_type": resource_type,
                          "bytes": sink.bytes_written})
        self.destination.close()
        if self.bundle_objects:
            files.append({"uri": self.target.uri(self._bundle_key("*")), "resource_type": "Bundle",
                          "bytes": self.bundle_bytes, "objects": self.bundle_objects})
        return files

    def abort(self) -> None:
        for sink in self.sinks.values():
            with suppress(Exception):  # best effort: the error that made us abort matters more
                sink.abort()
        with suppress(Exception):
            self.destination.close()

    def _sink(self, resource_type: str):
        sink = self.sinks.get(resource_type)
        if sink is None:
            key = render_key(self.raw_key_template, self.target, resource_type=resource_type, date=self.as_of,
                             batch=self.label) + self.suffix
            self.keys[resource_type] = key
            sink = self.sinks[resource_type] = self.destination.open(key)
        return sink

    def _bundle_key(self, name: str) -> str:
        return render_key(self.bundle_key_template, self.target, resource_type="Bundle", date=self.as_of,
                          batch=self.label, name=name) + self.suffix
