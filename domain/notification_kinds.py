"""What a notification to a user is about, and how the user wants each kind delivered.

Pure (no I/O, no db import), so flow definitions, which workflows import, can use it.
"""

from __future__ import annotations

from enum import StrEnum


class NotificationKind(StrEnum):
    CALLING_TASK_ASSIGNED = "calling_task_assigned"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    FLOW = "flow"  # anything else a flow's notify step says
    SYSTEM = "system"  # the CRM about itself (a webhook endpoint switched off)
    CAMPAIGN_STATUS = "campaign_status"  # an owner's campaign became Active or In-active
    CAMPAIGN_ACTIVITY = "campaign_activity"  # views, likes and sign-ups, batched hourly
    CAMPAIGN_SUMMARY = "campaign_summary"  # the day's summary at the end of the owner's day
    RECORD_REASSIGNED = "record_reassigned"  # a contact or lead of yours went to someone else


class NotificationChannel(StrEnum):
    IN_APP = "in_app"  # the inbox and the user's event subscription
    EMAIL = "email"
    BOTH = "both"
    NONE = "none"


# Until a user says otherwise, every kind goes to the inbox.
DEFAULT_CHANNEL = NotificationChannel.IN_APP
