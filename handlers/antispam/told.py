"""What antispam commands change that every worker caches: approvals and spam samples.

``/approve`` on one worker must end the member's probation on all of them, and a ``/spam``
sample must be matched by all of them; each worker keeps both in memory (``state``). So the
command publishes the change on the change feed (``bot.changes``: NOTIFY on PostgreSQL) and the
other workers apply it to their memory: the approval itself (it carries its time and author, so
no read), and the group's samples dropped, read again on their next message there.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from handlers.antispam.state import get_state

if TYPE_CHECKING:
    from bot.services import Services

APPROVED = "antispam.approved"
SAMPLES = "antispam.samples"


def install(services: Services) -> None:
    """Apply the other workers' approvals and sample changes to this worker's memory."""
    state = get_state(services)

    def on_approved(key: str) -> None:
        group_id, member_id, at, by = key.split(" ", 3)
        member = (int(group_id), int(member_id))
        state.approvals[member] = (datetime.fromisoformat(at), by or None)
        state.rows.pop(member, None)  # read again, approved, on their next message

    services.changes.subscribe(APPROVED, on_approved)
    services.changes.subscribe(SAMPLES, lambda key: state.samples.pop(int(key), None))


async def approved(services: Services, group_id: int, member_id: int, at: datetime, by: str | None) -> None:
    """Tell the other workers that a member was approved."""
    await services.changes.publish(APPROVED, f"{group_id} {member_id} {at.isoformat()} {by or ''}")


async def sampled(services: Services, group_id: int) -> None:
    """Tell the other workers that the group's spam samples changed."""
    await services.changes.publish(SAMPLES, group_id)
