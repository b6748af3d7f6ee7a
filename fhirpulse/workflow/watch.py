"""`fhirpulse watch`: the local stand-in for the trigger Lambda's event source.

The raw prefix's S3 notifications land in `workflow.trigger_queue`. This loop long-polls it; the first
message opens a burst, which ends once `debounce_seconds` pass without another. The whole burst goes to the
Lambda's own `handle` as one SQS-shaped event, so a burst of uploads starts one workflow run. Messages are
deleted after the handler succeeds; when a run is already going (`RetryLater`) they become visible again and
the next poll offers them once more.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from fhirpulse.core import aws
from fhirpulse.core.config import Config, ConfigError
from fhirpulse.core.logs import log_event
from lambdas.ingest_trigger.handler import RetryLater, handle

# Hidden from other pollers while their workflow run goes; deleted after it, so a crash re-offers them.
_IN_FLIGHT_SECONDS = 6 * 3600


@dataclass
class Burst:
    messages: list[dict]

    def event(self) -> dict:
        """The SQS event the trigger Lambda would receive for these messages."""
        return {"Records": [{"eventSource": "aws:sqs", "messageId": m["MessageId"], "body": m["Body"]}
                            for m in self.messages]}


class TriggerQueue:
    def __init__(self, cfg: Config):
        if not cfg.workflow.trigger_queue:
            raise ConfigError("workflow.trigger_queue: not set, so there is no upload queue to watch")
        self._sqs = aws.client(cfg, "sqs")
        self.url = self._sqs.get_queue_url(QueueName=cfg.workflow.trigger_queue)["QueueUrl"]

    def _receive(self, wait_seconds: int) -> list[dict]:
        return self._sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds,
                                         VisibilityTimeout=_IN_FLIGHT_SECONDS).get("Messages", [])

    def collect_burst(self, quiet_seconds: float, first_wait: int = 5, max_seconds: float = 600) -> Burst | None:
        """Wait up to `first_wait` s for a message; then keep collecting until `quiet_seconds` pass with
        nothing new (or `max_seconds` in all, so an endless trickle still gets processed)."""
        messages = self._receive(first_wait)
        if not messages:
            return None
        opened = last_new = time.monotonic()
        while time.monotonic() - last_new < quiet_seconds and time.monotonic() - opened < max_seconds:
            more = self._receive(1)
            if more:
                messages += more
                last_new = time.monotonic()
        return Burst(messages)

    def _in_batches(self, call: Callable, burst: Burst, **entry: object) -> None:
        for start in range(0, len(burst.messages), 10):  # SQS batch calls take 10 entries
            call(QueueUrl=self.url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], **entry}
                                             for i, m in enumerate(burst.messages[start:start + 10])])

    def done(self, burst: Burst) -> None:
        self._in_batches(self._sqs.delete_message_batch, burst)

    def retry_later(self, burst: Burst) -> None:
        self._in_batches(self._sqs.change_message_visibility_batch, burst, VisibilityTimeout=0)


def watch(cfg: Config, start_workflow: Callable[[list[str]], str], *, max_runs: int | None = None,
          idle_seconds: float | None = None, retry_seconds: float = 5.0) -> list[str]:
    """Run the trigger loop; returns the started workflow run ids. Stops after `max_runs` runs, or after
    `idle_seconds` without uploads (None: never)."""
    queue = TriggerQueue(cfg)
    started: list[str] = []
    idle_since = time.monotonic()
    while max_runs is None or len(started) < max_runs:
        burst = queue.collect_burst(cfg.workflow.debounce_seconds)
        if burst is None:
            if idle_seconds is not None and time.monotonic() - idle_since >= idle_seconds:
                break
            continue
        log_event("trigger.burst", messages=len(burst.messages))
        try:
            result = handle(burst.event(), cfg.s3.bucket, cfg.s3.raw_prefix, start_workflow)
        except RetryLater as err:
            log_event("trigger.retry_later", reason=str(err))
            queue.retry_later(burst)
            time.sleep(retry_seconds)
            continue
        except BaseException:
            queue.retry_later(burst)  # offered again at once, not after the in-flight timeout
            raise
        queue.done(burst)
        log_event("trigger.handled", **result)
        if result["started"]:
            started.append(result["started"])
        idle_since = time.monotonic()
    return started
