"""What one pump run did, for logs, the management command and the django-q2 task result."""

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class PumpStats:
    name: str
    # False when another runner held the lease: this run did nothing.
    acquired: bool = False
    lease_lost: bool = False
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    deferred: int = 0  # put back by the rate budget without burning an attempt
    dead: int = 0
    lost: int = 0  # our claim expired and another runner took the message over
    applied: int = 0
    ignored: int = 0
    failed: int = 0
    errors: int = (
        0  # settle steps that raised; those messages are re-sent after their claim expires
    )
    seconds: float = 0.0
    # The run hit its time limit while still finding work: the next run should start at once.
    backlog: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
