"""The workflow lock on the real moto server: one holder, leases that expire, renewals, owner-only release."""

from __future__ import annotations

import time

import pytest

from fhirpulse.workflow.lock import LockHeld, WorkflowLock

pytestmark = pytest.mark.integration


@pytest.fixture()
def lock_cfg(cfg):
    from fhirpulse.stack.provision import ensure_workflow_table

    ensure_workflow_table(cfg)
    workflow = cfg.workflow.model_copy(update={"name": f"lock-test-{time.monotonic_ns()}"})
    return cfg.model_copy(update={"workflow": workflow})


def test_a_second_runner_is_refused_with_the_holder_named(lock_cfg):
    first, second = WorkflowLock(lock_cfg, "wr_first", 30), WorkflowLock(lock_cfg, "wr_second", 30)
    assert first.acquire() is None
    with pytest.raises(LockHeld, match=r"is already running: run wr_first \(pid \d+ on .+\), lease until"):
        second.acquire(wait_seconds=1.5, poll_seconds=0.5)
    first.release()
    assert second.acquire() is None and second.holder().owner == "wr_second"


def test_an_expired_lease_is_taken_over_and_the_old_holder_is_reported(lock_cfg):
    dead = WorkflowLock(lock_cfg, "wr_dead", lease_seconds=1)
    dead.acquire()
    successor = WorkflowLock(lock_cfg, "wr_next", lease_seconds=30)
    started = time.monotonic()
    replaced = successor.acquire(wait_seconds=10, poll_seconds=0.2)
    assert replaced is not None and replaced.owner == "wr_dead" and time.monotonic() - started < 5
    # the dead runner comes back: it cannot renew nor release what is no longer its lock
    assert dead.renew() is False and dead.lost.is_set()
    dead.release()
    assert successor.holder().owner == "wr_next"


def test_the_heartbeat_keeps_a_short_lease_alive_and_the_block_releases_it(lock_cfg):
    holder = WorkflowLock(lock_cfg, "wr_alive", lease_seconds=1)
    holder.acquire()
    with holder.renewed():
        time.sleep(2.5)  # more than two leases: only the heartbeat keeps it
        taken, current = WorkflowLock(lock_cfg, "wr_intruder", 30).try_acquire()
        assert not taken and current.owner == "wr_alive"
    assert holder.holder() is None


def test_a_dead_local_holder_is_taken_over_at_once_without_waiting_for_its_lease(lock_cfg):
    import socket
    import subprocess

    from fhirpulse.core import aws

    gone = subprocess.Popen(["true"])
    gone.wait()  # a process of this machine that no longer exists
    aws.client(lock_cfg, "dynamodb").put_item(TableName=lock_cfg.workflow.state_table, Item={
        "pk": {"S": f"lock#{lock_cfg.workflow.name}"}, "owner": {"S": "wr_gone"},
        "host": {"S": socket.gethostname()}, "pid": {"N": str(gone.pid)}, "expires_at": {"N": str(time.time() + 600)}})
    replaced = WorkflowLock(lock_cfg, "wr_next", 30).acquire()
    assert replaced is not None and replaced.owner == "wr_gone"
    # a live holder on this machine is not taken over
    with pytest.raises(LockHeld, match="run wr_next"):
        WorkflowLock(lock_cfg, "wr_third", 30).acquire()
