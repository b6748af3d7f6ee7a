"""A DynamoDB lock item with a lease: one holder at a time for a named thing (a workflow, a layer's tables).

The holder renews the lease every third of it from a background thread. A runner that dies (SIGKILL, a lost
machine) stops renewing, so its lock expires after at most one lease and the next runner takes it over,
learning whose run it replaced. On the same machine a dead holder is seen at once (its pid is gone), so its
lock is taken over without waiting for the lease. Every write is conditional, so two runners can never both
hold it.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class Holder:
    owner: str  # the workflow run id (or the job run id of a job started alone)
    host: str
    pid: int
    expires_at: float  # epoch seconds

    def is_dead_here(self) -> bool:
        """The holder ran on this machine and its process is gone (a lease would only make us wait)."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def describe(self) -> str:
        until = datetime.fromtimestamp(self.expires_at, UTC).strftime("%H:%M:%S UTC")
        return f"run {self.owner} (pid {self.pid} on {self.host}), lease until {until}"


class LockHeld(RuntimeError):
    def __init__(self, what: str, holder: Holder | None):
        self.holder = holder
        who = holder.describe() if holder else "another runner"
        super().__init__(f"{what} is already running: {who}")


def _conditional_failed(err: ClientError) -> bool:
    return err.response["Error"]["Code"] == "ConditionalCheckFailedException"


class Lease:
    """The lock item `key` in DynamoDB `table`, held by `owner`; `what` names the locked thing in messages."""

    def __init__(self, ddb, table: str, key: dict, what: str, owner: str, lease_seconds: int):
        self.what = what
        self.owner = owner
        self.lease = lease_seconds
        self._table = table
        self._ddb = ddb
        self._key = key
        self._key_attr = next(iter(key))
        self.lost = threading.Event()  # set when a renewal finds the lock taken (we stalled past the lease)

    def _holder(self, item: dict | None) -> Holder | None:
        if not item or "owner" not in item:
            return None
        return Holder(item["owner"]["S"], item["host"]["S"], int(item["pid"]["N"]), float(item["expires_at"]["N"]))

    def holder(self) -> Holder | None:
        return self._holder(self._ddb.get_item(TableName=self._table, Key=self._key, ConsistentRead=True).get("Item"))

    def try_acquire(self) -> tuple[bool, Holder | None]:
        """(True, the expired holder replaced or None) when taken; (False, the live holder) when not."""
        now = time.time()
        item = self._key | {"owner": {"S": self.owner}, "host": {"S": socket.gethostname()},
                            "pid": {"N": str(os.getpid())}, "expires_at": {"N": f"{now + self.lease:.3f}"}}
        try:
            old = self._ddb.put_item(
                TableName=self._table, Item=item, ReturnValues="ALL_OLD",
                ConditionExpression="attribute_not_exists(#key) OR expires_at < :now",
                ExpressionAttributeNames={"#key": self._key_attr},
                ExpressionAttributeValues={":now": {"N": f"{now:.3f}"}})
        except ClientError as err:
            if not _conditional_failed(err):
                raise
            holder = self.holder()
            if holder is None or not holder.is_dead_here():
                return False, holder
            return self._take_from(holder, item)
        return True, self._holder(old.get("Attributes"))

    def _take_from(self, dead: Holder, item: dict) -> tuple[bool, Holder | None]:
        """Replace a dead local holder's item, on condition that it is still that holder's."""
        try:
            self._ddb.put_item(TableName=self._table, Item=item, ConditionExpression="#owner = :dead",
                               ExpressionAttributeNames={"#owner": "owner"},
                               ExpressionAttributeValues={":dead": {"S": dead.owner}})
        except ClientError as err:
            if _conditional_failed(err):  # someone else was quicker
                return False, self.holder()
            raise
        return True, dead

    def acquire(self, wait_seconds: float = 0, poll_seconds: float = 1.0) -> Holder | None:
        """Take the lock, waiting up to `wait_seconds` for the holder to finish or its lease to expire.
        Returns the expired holder it replaced (or None); raises LockHeld when the wait runs out."""
        deadline = time.monotonic() + wait_seconds
        while True:
            taken, holder = self.try_acquire()
            if taken:
                return holder
            if time.monotonic() >= deadline:
                raise LockHeld(self.what, holder)
            time.sleep(poll_seconds)

    def renew(self) -> bool:
        try:
            self._ddb.update_item(
                TableName=self._table, Key=self._key, UpdateExpression="SET expires_at = :until",
                ConditionExpression="#owner = :me", ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":until": {"N": f"{time.time() + self.lease:.3f}"},
                                           ":me": {"S": self.owner}})
        except ClientError as err:
            if _conditional_failed(err):
                self.lost.set()
                return False
            raise
        return True

    def release(self) -> None:
        try:
            self._ddb.delete_item(TableName=self._table, Key=self._key, ConditionExpression="#owner = :me",
                                  ExpressionAttributeNames={"#owner": "owner"},
                                  ExpressionAttributeValues={":me": {"S": self.owner}})
        except ClientError as err:
            if not _conditional_failed(err):  # someone took over an expired lease: not ours to delete
                raise

    @contextmanager
    def renewed(self) -> Iterator[Lease]:
        """Keep renewing the lease until the block ends, then release the lock."""
        stop = threading.Event()

        def heartbeat() -> None:
            while not stop.wait(self.lease / 3):
                try:
                    if not self.renew():
                        return
                except Exception:  # noqa: BLE001 - an unreachable endpoint: try again next beat
                    continue

        thread = threading.Thread(target=heartbeat, name=f"lease-heartbeat-{self.what}", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()
            self.release()
