"""Flow runs when duplicates are merged, on the time-skipping Temporal server: the merged
record's running nurture is stopped (the reason audited), the survivor's goes on, and the
merged record's finished runs move to the survivor."""

from __future__ import annotations

from datetime import timedelta

from db.audit import AuditEntry
from db.flow_runs import FlowRun as FlowRunRow
from domain.flows.definitions import FlowRunStatus
from domain.merges import STOPPED_BY_MERGE, merge_contacts, undo_merge
from tests.fixtures.flows import Flows
from workflows.flow_run import FlowRun


async def test_a_merge_stops_the_merged_contacts_running_flows_and_keeps_the_survivors(
    flows: Flows,
) -> None:
    ada = await flows.create_contact()
    twin = await flows.create_contact(first_name="Ada", emails=["ada.lovelace@example.com"])
    finished = await FlowRunRow.create(
        agency_id=flows.agency_id,
        workflow_id=f"old:contact:{twin.id}",
        flow_key="old-flow",
        version=1,
        record_type="contact",
        record_id=str(twin.id),
        status=FlowRunStatus.COMPLETED,
    )
    await flows.relay_all()
    async with flows.worker():
        kept = await flows.run_of("contact-nurture", ada)
        stopped = await flows.run_of("contact-nurture", twin)
        await flows.reach(kept, "wait-for-interest")
        await flows.reach(stopped, "wait-for-interest")

        merge = await merge_contacts(flows.actor, ada.id, [twin.id], {}, timedelta(hours=1))
        await flows.relay_all()  # the cancel, written with the merge
        # In real time (no timer fires meanwhile): the twin's run stops, Ada's still waits.
        row = await flows.run_row_when("contact-nurture", twin, "cancelled")
        # The stopped run stays the merged record's: it was started on (and keyed by) it.
        assert row.record_id == str(twin.id)
        progress = await kept.query(FlowRun.progress)
        assert (progress.current_step, progress.status) == ("wait-for-interest", "waiting")
        assert (await flows.result(stopped)).status == FlowRunStatus.CANCELLED

    audit = await AuditEntry.get(entity_type="flow_run", entity_id=str(row.id), action="cancel")
    assert audit.after == {"reason": STOPPED_BY_MERGE, "merged_into": str(ada.id)}
    merged_audit = await AuditEntry.get(entity_id=str(twin.id), action="merge")
    assert merged_audit.after["stopped_flow_runs"] == [row.workflow_id]
    assert (await FlowRunRow.get(id=finished.id)).record_id == str(ada.id)  # history moves

    await undo_merge(flows.actor, merge.id)
    assert (await FlowRunRow.get(id=finished.id)).record_id == str(twin.id)
    assert (await FlowRunRow.get(id=row.id)).status == "cancelled"  # not restarted
