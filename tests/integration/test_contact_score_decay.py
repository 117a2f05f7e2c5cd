"""Lead score decay in time: a contact made Hot by its behaviour goes Cold when the score
watch's durable timer reaches the moment the decayed score falls below the threshold (days
of waiting passed by Temporal's time skipping). With CRM_RECORD_FLOW_HISTORIES=1 the watch's
run is recorded for the replay tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db.contacts import Contact
from db.flow_runs import FlowRun as FlowRunRow
from db.lead_scoring import ContactScoreMark
from domain import lead_scoring
from domain.contact_behaviour import watch_id
from tests.fixtures.flows import Flows
from tests.integration.test_flow_runs import keep_history

RULES = {
    "threshold": 50,
    "half_life_days": 7,
    "rules": [
        {"name": "Replied", "kind": "behaviour", "behaviour": "email_replied", "points": 40},
        {"name": "Pricing", "kind": "behaviour", "behaviour": "page_visit", "points": 30},
    ],
}


async def test_a_hot_contact_cools_when_its_behaviour_points_decay_below_the_threshold(
    flows: Flows,
) -> None:
    await lead_scoring.publish_scoring_rules(flows.actor, RULES)
    ada = await flows.create_contact()
    for behaviour in ("email_replied", "page_visit"):
        await lead_scoring.record_behaviour(
            flows.actor, {"contact_id": ada.id, "behaviour": behaviour}
        )
    assert (await Contact.get(id=ada.id)).status == "hot"  # 70 >= 50, at once
    # Flows react to the lifecycle event as to any other: the default conversion flow starts.
    conversion = FlowRunRow.filter(flow_key="contact-conversion", record_id=str(ada.id))
    assert await conversion.exists()
    await flows.relay_all()  # starts the contact's score watch

    async with flows.worker():
        watch = flows.client.get_workflow_handle(watch_id(ada.id), result_type=str)
        # 70 * 0.5 ** (t / 7) < 49.5 after about 3.5 days, skipped
        assert await flows.result(watch) == "cold"
        await keep_history("contact-score-watch-cools", watch)

    assert (await Contact.get(id=ada.id)).status == "cold"
    assert not await ContactScoreMark.filter(contact_id=ada.id).exists()
    # Read at any moment, the score is computed from the behaviour's timestamps.
    later = datetime.now(UTC) + timedelta(days=7)
    score = await lead_scoring.contact_score(flows.actor, ada.id, later)
    assert score is not None
    assert score.score.total == 35
