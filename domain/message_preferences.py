"""Consent: which kinds of message each contact and customer receives, on which channel, and the
addresses that bounced.

The owning sales person (whoever may change the record) manages the choices; the recipient
changes them through the signed link every non-transactional email carries
(`domain.unsubscribe_links`). Every change is a `ConsentChange` row (kinds in and out, the
source, who, when), audited, and a `message_preference.updated` event. The sending activity
asks `refusal` just before it sends, so a choice made after a message was scheduled still
holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from db.message_preferences import ConsentChange as ConsentChange
from db.message_preferences import MessagePreference as MessagePreference
from db.message_preferences import UndeliverableAddress as UndeliverableAddress
from domain.actors import Actor
from domain.attachments import check_readable, check_writable, lock_record
from domain.errors import DomainError, DomainErrors, input_errors
from domain.field_types import Tag, distinct, input_codes
from domain.message_kinds import RECIPIENT_TYPES, UNSUBSCRIBABLE, TemplateKind
from domain.record_changes import record_updated

AGGREGATE = "message_preference"
MAX_REASON_LENGTH = 500


class Channel(StrEnum):
    """How a record prefers to be reached; email is the one sent today."""

    EMAIL = "email"
    PHONE = "phone"
    SMS = "sms"
    WHATSAPP = "whatsapp"


class ConsentSource(StrEnum):
    LINK = "link"  # the unsubscribe page
    ONE_CLICK = "one_click"  # RFC 8058 POST from the mail client
    REPLY = "reply"  # an "unsubscribe" reply (inbound email)
    AGENT = "agent"  # a user of the agency, for the person
    CAMPAIGN = "campaign"  # the consent box of a campaign's sign-up form


class SkipReason(StrEnum):
    OPTED_OUT = "opted_out"
    UNDELIVERABLE = "undeliverable"
    NO_ADDRESS = "no_address"


class PreferenceErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    UNKNOWN_RECORD_TYPE = "UNKNOWN_RECORD_TYPE"


_CODES = input_codes(PreferenceErrorCode)
Topics = Annotated[list[Tag], Field(max_length=20), AfterValidator(distinct)]


class PreferenceChanges(BaseModel):
    """What an agent may change; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    receives: list[TemplateKind] | None = None
    channel: Channel | None = None
    topics: Topics | None = None


@dataclass(frozen=True)
class Preferences:
    """A record's choices as people read them (a record nobody set anything for receives all)."""

    record_type: str
    record_id: str
    receives: list[TemplateKind]
    channel: Channel
    topics: list[str]


def normalised_address(address: str) -> str:
    return address.strip().lower()


def _preferences(record_type: str, record_id: str, row: MessagePreference | None) -> Preferences:
    opted_out = set(row.opted_out_kinds) if row else set()
    return Preferences(
        record_type=record_type,
        record_id=record_id,
        receives=[kind for kind in TemplateKind if kind not in opted_out],
        channel=Channel(row.channel) if row else Channel.EMAIL,
        topics=list(row.topics) if row else [],
    )


def _check_type(record_type: str) -> None:
    if record_type not in RECIPIENT_TYPES:
        raise DomainError(
            PreferenceErrorCode.UNKNOWN_RECORD_TYPE,
            f"Only a {' or a '.join(RECIPIENT_TYPES)} has message preferences.",
            "record_id",
        )


async def preference_row(
    agency_id: UUID, record_type: str, record_id: str, conn: BaseDBAsyncClient | None = None
) -> MessagePreference | None:
    """The record's stored choices; None: it never set any (it receives every kind)."""
    query = MessagePreference.filter(
        agency_id=agency_id, record_type=record_type, record_id=record_id
    )
    return await (query.using_db(conn) if conn else query).first()


# The customer fields that were its preferences before consent was one mechanism: still
# accepted (and shown) by the customer API, stored here.
CUSTOMER_FIELDS = {"preferred_channel": "channel", "notification_subscriptions": "topics"}


def customer_preference_changes(
    data: dict[str, Any], codes: type[StrEnum]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`data` without the customer's preference fields, and those fields as changes for
    `save_preferences`; invalid ones are errors in `codes` on the customer's field names."""
    rest = {k: v for k, v in data.items() if k not in CUSTOMER_FIELDS}
    given = {CUSTOMER_FIELDS[k]: v for k, v in data.items() if k in CUSTOMER_FIELDS}
    try:
        changes = PreferenceChanges.model_validate(given).model_dump(exclude_none=True)
    except ValidationError as exc:
        renamed = {v: k for k, v in CUSTOMER_FIELDS.items()}
        errors = input_errors(exc, input_codes(codes), codes("INVALID")).errors
        raise DomainErrors(
            [
                DomainError(e.code, e.message, renamed.get((e.field or "").split(".")[0], e.field))
                for e in errors
            ]
        ) from exc
    return rest, changes


async def preferences_of_records(
    actor: Actor, record_type: str, record_ids: Sequence[UUID]
) -> dict[UUID, Preferences]:
    """Batch read for records the caller already shows (a page of customers)."""
    rows = await MessagePreference.filter(
        agency_id=actor.agency_id,
        record_type=record_type,
        record_id__in=[str(i) for i in record_ids],
    )
    found = {row.record_id: row for row in rows}
    return {
        record_id: _preferences(record_type, str(record_id), found.get(str(record_id)))
        for record_id in record_ids
    }


async def get_preferences(actor: Actor, record_type: str, record_id: UUID) -> Preferences:
    """Whoever may read the record reads its choices."""
    _check_type(record_type)
    await check_readable(actor, record_type, record_id, PreferenceErrorCode)
    row = await preference_row(actor.agency_id, record_type, str(record_id))
    return _preferences(record_type, str(record_id), row)


async def consent_history(actor: Actor, record_type: str, record_id: UUID) -> list[ConsentChange]:
    """Every consent change of the record, newest first (the proof of what it agreed to)."""
    _check_type(record_type)
    await check_readable(actor, record_type, record_id, PreferenceErrorCode)
    return await ConsentChange.filter(
        agency_id=actor.agency_id, record_type=record_type, record_id=str(record_id)
    ).order_by("-changed_at", "-id")


async def save_preferences(
    actor: Actor,
    record_type: str,
    record_id: str,
    changes: dict[str, Any],
    source: ConsentSource,
    conn: BaseDBAsyncClient,
    message_id: int | None = None,
    affirmed: Sequence[str] = (),
) -> Preferences:
    """Apply `changes` (`opted_out_kinds`, `channel`, `topics`) in the caller's transaction,
    with the consent change, audit row and event when anything changed. `affirmed` kinds are
    ones the person said yes to just now (a ticked consent box): their consent change is kept
    as proof even when they already received those kinds."""
    row = await preference_row(actor.agency_id, record_type, record_id, conn)
    if row is None:
        try:
            row = await MessagePreference.create(
                agency_id=actor.agency_id,
                record_type=record_type,
                record_id=record_id,
                using_db=conn,
            )
        except IntegrityError:  # created by a concurrent change: use that one
            row = await preference_row(actor.agency_id, record_type, record_id, conn)
            assert row is not None
    before = {
        "opted_out_kinds": sorted(row.opted_out_kinds),
        "channel": row.channel,
        "topics": list(row.topics),
    }
    after = {**before, **changes}
    after["opted_out_kinds"] = sorted({str(kind) for kind in after["opted_out_kinds"]})
    changed = {k: v for k, v in after.items() if before[k] != v}
    old_out, new_out = set(before["opted_out_kinds"]), set(after["opted_out_kinds"])
    if old_out != new_out or affirmed:
        await ConsentChange.create(
            agency_id=actor.agency_id,
            record_type=record_type,
            record_id=record_id,
            opted_in=sorted((old_out - new_out) | {str(kind) for kind in affirmed}),
            opted_out=sorted(new_out - old_out),
            source=source,
            message_id=message_id,
            changed_by=actor.id,
            using_db=conn,
        )
    if changed:
        row.opted_out_kinds = after["opted_out_kinds"]
        row.channel = str(after["channel"])
        row.topics = after["topics"]
        await row.save(using_db=conn)
        subject = {"record_type": record_type, "record_id": record_id, "source": str(source)}
        old = {k: before[k] for k in changed}
        await record_updated(actor, AGGREGATE, str(row.id), old, {**changed, **subject}, conn)
    return _preferences(record_type, record_id, row)


async def opt_out_of_kind(
    actor: Actor,
    record_type: str,
    record_id: str,
    kind: str,
    source: ConsentSource,
    conn: BaseDBAsyncClient,
    message_id: int | None = None,
) -> None:
    """Stop the kind of messages one came in (one-click, an "unsubscribe" reply); a
    transactional message's kind cannot be turned off, so nothing changes for it."""
    if kind not in UNSUBSCRIBABLE:
        return
    row = await preference_row(actor.agency_id, record_type, record_id, conn)
    opted_out = set(row.opted_out_kinds) if row else set()
    await save_preferences(
        actor,
        record_type,
        record_id,
        {"opted_out_kinds": sorted(opted_out | {kind})},
        source,
        conn,
        message_id,
    )


async def update_preferences(
    actor: Actor, record_type: str, record_id: UUID, data: dict[str, Any]
) -> Preferences:
    """The owning sales person (whoever may change the record) sets the record's choices."""
    _check_type(record_type)
    try:
        given = PreferenceChanges.model_validate(data).model_dump(exclude_none=True)
    except ValidationError as exc:
        raise input_errors(exc, _CODES, PreferenceErrorCode.INVALID) from exc
    await check_writable(actor, record_type, record_id, PreferenceErrorCode)
    changes: dict[str, Any] = {k: v for k, v in given.items() if k != "receives"}
    if "receives" in given:
        changes["opted_out_kinds"] = [k for k in TemplateKind if k not in given["receives"]]
    async with in_transaction() as conn:
        await lock_record(actor, record_type, record_id, conn, PreferenceErrorCode)
        return await save_preferences(
            actor, record_type, str(record_id), changes, ConsentSource.AGENT, conn
        )


async def refusal(
    agency_id: UUID,
    record_type: str,
    record_id: str,
    kind: str,
    addresses: Sequence[str],
    to_record: bool,
) -> SkipReason | None:
    """Why a message may not be sent now, or None: asked by the sending activity itself."""
    if not addresses:
        return SkipReason.NO_ADDRESS
    normalised = [normalised_address(a) for a in addresses]
    if await UndeliverableAddress.filter(agency_id=agency_id, address__in=normalised).exists():
        return SkipReason.UNDELIVERABLE
    if to_record:
        row = await preference_row(agency_id, record_type, record_id)
        if row is not None and kind in row.opted_out_kinds:
            return SkipReason.OPTED_OUT
    return None


async def mark_undeliverable(agency_id: UUID, addresses: Sequence[str], reason: str) -> None:
    """Remember hard bounces; an address already known keeps its first reason."""
    for address in {normalised_address(a) for a in addresses}:
        try:
            await UndeliverableAddress.create(
                agency_id=agency_id, address=address, reason=reason[:MAX_REASON_LENGTH]
            )
        except IntegrityError:
            continue
