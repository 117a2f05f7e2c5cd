"""Meeting activities: the reminder before a booked meeting."""

from __future__ import annotations

from uuid import UUID

from temporalio import activity

from domain import meetings


@activity.defn(name="remind_of_meeting")
async def remind_of_meeting(meeting_id: str, sequence: int) -> bool:
    """Idempotent: a retry finds the reminder queued and queues nothing more."""
    return await meetings.remind_of_meeting(UUID(meeting_id), sequence)


MEETING_ACTIVITIES = [remind_of_meeting]
