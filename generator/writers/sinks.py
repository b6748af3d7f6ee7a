"""Streaming sinks: a local file (atomic rename on close) and an S3 multipart upload.

Both take bytes in order and hold at most a few parts in memory, so memory does not grow with the output.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

_MAX_PARTS_IN_FLIGHT = 2  # per S3 object: bounds memory to ~(2 + 1) parts per open object
_MAX_PUTS_IN_FLIGHT = 64  # small whole objects (bundles) queued at once


class LocalFileSink:
    def __init__(self, path: Path):
        self.path = path
        self.bytes_written = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._partial = path.with_name(path.name + ".partial")  # readers never see half a file
        self._file = open(self._partial, "wb", buffering=0)  # noqa: SIM115 - closed in close()/abort()

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:  # an unbuffered write may be partial
            view = view[self._file.write(view):]
        self.bytes_written += len(data)

    def write_file(self, path: str) -> None:
        """Append a whole file with an in-kernel copy (no round trip through Python buffers)."""
        with open(path, "rb") as source:
            remaining = os.fstat(source.fileno()).st_size
            self.bytes_written += remaining
            while remaining:
                remaining -= _copy(source.fileno(), self._file.fileno(), remaining)

    def close(self) -> None:
        self._file.close()
        os.replace(self._partial, self.path)

    def abort(self) -> None:
        self._file.close()
        self._partial.unlink(missing_ok=True)


def _copy(source: int, destination: int, count: int) -> int:
    try:
        copied = os.copy_file_range(source, destination, count)
    except OSError:  # e.g. another filesystem on an old kernel
        copied = os.sendfile(destination, source, None, count)
    if copied <= 0:
        raise OSError(f"could not append spilled chunk ({count} bytes left)")
    return copied


class LocalDestination:
    def __init__(self, root: Path):
        self.root = root

    def open(self, key: str) -> LocalFileSink:
        return LocalFileSink(self.root / key)

    def put(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def close(self) -> None:
        pass


class S3MultipartSink:
    """Streams one object: parts of `part_size` bytes upload in the background while the next part fills.

    An object smaller than one part is sent with a single PutObject (S3 multipart needs >= 5 MiB parts).
    """

    def __init__(self, client, executor: ThreadPoolExecutor, bucket: str, key: str, part_size: int):
        self.client, self.executor, self.bucket, self.key = client, executor, bucket, key
        self.part_size = part_size
        self.bytes_written = 0
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: deque[tuple[int, Future]] = deque()
        self._done: list[dict] = []

    def write_file(self, path: str) -> None:
        with open(path, "rb") as source:
            while piece := source.read(self.part_size):
                self.write(piece)

    def write(self, data: bytes) -> None:
        self._buffer += data
        self.bytes_written += len(data)
        while len(self._buffer) >= self.part_size:
            part = bytes(self._buffer[: self.part_size])
            del self._buffer[: self.part_size]
            self._upload_part(part)

    def close(self) -> None:
        if self._upload_id is None:
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self._buffer))
            return
        if self._buffer:
            self._upload_part(bytes(self._buffer))
            self._buffer.clear()
        try:
            while self._parts:
                self._collect_oldest()
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": self._done}
            )
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        if self._upload_id is not None:
            for _, future in self._parts:
                future.cancel()
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
            self._upload_id = None

    def _upload_part(self, body: bytes) -> None:
        if self._upload_id is None:
            self._upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=self.key)["UploadId"]
        number = len(self._done) + len(self._parts) + 1
        future = self.executor.submit(self.client.upload_part, Bucket=self.bucket, Key=self.key,
                                      UploadId=self._upload_id, PartNumber=number, Body=body)
        self._parts.append((number, future))
        while len(self._parts) > _MAX_PARTS_IN_FLIGHT:
            self._collect_oldest()

    def _collect_oldest(self) -> None:
        number, future = self._parts.popleft()
        self._done.append({"PartNumber": number, "ETag": future.result()["ETag"]})


class S3Destination:
    def __init__(self, client, bucket: str, part_size: int, threads: int = 4):
        self.client, self.bucket, self.part_size = client, bucket, part_size
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="s3-upload")
        self._puts: deque[Future] = deque()

    def open(self, key: str) -> S3MultipartSink:
        return S3MultipartSink(self.client, self.executor, self.bucket, key, self.part_size)

    def put(self, key: str, data: bytes) -> None:
        self._puts.append(self.executor.submit(self.client.put_object, Bucket=self.bucket, Key=key, Body=data))
        while len(self._puts) > _MAX_PUTS_IN_FLIGHT:
            self._puts.popleft().result()

    def close(self) -> None:
        try:
            while self._puts:
                self._puts.popleft().result()
        finally:
            self.executor.shutdown(wait=True)
