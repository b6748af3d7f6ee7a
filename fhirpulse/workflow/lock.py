"""One workflow run at a time: a DynamoDB lock item with a lease (fhirpulse.core.lease). A single job
started by hand (`fhirpulse run bronze`) takes the same lock, so it never overlaps a workflow run or another job.
"""

from __future__ import annotations

from fhirpulse.core import aws
from fhirpulse.core.config import Config
from fhirpulse.core.lease import Holder, Lease, LockHeld

__all__ = ["Holder", "LockHeld", "WorkflowLock"]


class WorkflowLock(Lease):
    def __init__(self, cfg: Config, owner: str, lease_seconds: int | None = None):
        self.workflow = cfg.workflow.name
        super().__init__(aws.client(cfg, "dynamodb"), cfg.workflow.state_table, {"pk": {"S": f"lock#{self.workflow}"}},
                         f"workflow {self.workflow}", owner, lease_seconds or cfg.workflow.lease_seconds)
