"""The outbox relay's backoff and its reading of start messages (no servers needed)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from crm.flow_files import load_default_flows
from crm.outbox_relay import RelayTiming, flow_run_input
from domain.flow_triggers import start_payload
from tests.fixtures.flows import DEFAULT_FLOWS


def test_retries_back_off_by_doubling_up_to_the_longest_wait() -> None:
    timing = RelayTiming(first_retry=timedelta(seconds=1), longest_retry=timedelta(minutes=5))

    waits = [timing.backoff(attempts).total_seconds() for attempts in range(1, 12)]

    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]


def test_a_start_message_becomes_the_workflow_input_with_the_whole_definition() -> None:
    nurture = load_default_flows(DEFAULT_FLOWS)[0]
    agency_id = "00000000-0000-0000-0000-000000000001"
    payload = start_payload(UUID(agency_id), nurture, "contact", "c0ffee00-0000-4000-8000-0000")

    request = flow_run_input(payload)

    assert (request.agency_id, request.flow_key, request.version) == (agency_id, nurture.key, 1)
    assert request.definition == nurture
