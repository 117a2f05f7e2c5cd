"""Recorded histories of the default flows replay against today's FlowRun code.

A change to the workflow that would behave differently on a run already in flight (a
non-deterministic change) fails here; make it with `workflow.patched` instead. Re-record the
histories (`CRM_RECORD_FLOW_HISTORIES=1 pytest tests/integration/test_flow_runs.py`) only
when the default flows themselves change, and keep the old files for runs still in flight
(contact-conversion-converts and -cools-down are runs of the conversion flow before it
booked meetings through calling tasks; contact-conversion-meeting-converts one before it
waited for the contact to book a meeting from the owner's time slots; contact-nurture-cools-down
and -turns-hot are runs of the nurture flow before it was a four-email sequence with
`stop_when`). campaign-period-moved is a campaign's period run whose period moved
(tests/integration/test_campaign_period.py records it the same way), and
contact-score-watch-cools a lead score watch that waited out the decay
(tests/integration/test_contact_score_decay.py).
import-resumed-after-worker-restart an import whose worker stopped mid-file
(tests/e2e/test_imports_api.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows import DATA_CONVERTER
from workflows.campaign_period import CampaignPeriod
from workflows.contact_score import ContactScoreWatch
from workflows.email_delivery import DeliverEmail
from workflows.flow_run import FlowRun
from workflows.record_import import ImportRecords

HISTORIES = {
    path.stem: path.read_text()
    for path in sorted((Path(__file__).parent / "histories").glob("*.json"))
}


def test_histories_of_every_default_flow_are_recorded() -> None:
    assert {
        "contact-nurture-cools-down",
        "contact-nurture-sequence-cools-down",
        "contact-nurture-sequence-turns-hot",
        "contact-nurture-sequence-stopped-by-reply",
        "contact-conversion-meeting-converts",
        "contact-conversion-meeting-never-booked",
        "contact-conversion-meeting-held",
        "contact-conversion-slots-never-booked",
        "customer-onboarding-activated",
        "customer-onboarding-escalated",
        "calling-task-reminders-closed-in-time",
        "calling-task-reminders-escalated",
    } <= set(HISTORIES)


@pytest.mark.parametrize("name", list(HISTORIES))
async def test_a_recorded_run_replays_on_the_current_workflow_code(name: str) -> None:
    history = WorkflowHistory.from_json(name, json.loads(HISTORIES[name]))
    replayer = Replayer(
        workflows=[FlowRun, DeliverEmail, CampaignPeriod, ContactScoreWatch, ImportRecords],
        data_converter=DATA_CONVERTER,
    )

    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)

    assert result.replay_failure is None, f"{name}: {result.replay_failure}"
