"""GraphQL enums whose every value says what it means: error codes from one table of meanings,
lifecycle states and events derived from their machines, and the others described where they
are registered. `tests/unit/test_schema_descriptions.py` fails on any value left without one."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

import strawberry
from statemachine import StateMachine

from domain.lifecycles import describe

E = TypeVar("E", bound=type[Enum])
F = TypeVar("F", bound=type[Enum])

# What each error code means, whichever domain answers it: `field` says which input it is about
# and `message` says it in words for people (with the limit or the allowed values).
ERROR_CODES: Mapping[str, str] = {
    "NOT_FOUND": "No such record in your agency, or none you may see (the two answer alike).",
    "FORBIDDEN": "Your roles (or the API key's scopes) do not allow this here.",
    "INVALID": "A value is malformed or not one of those allowed; `message` says which.",
    "TOO_LONG": "A text is over its length limit; `message` gives the limit.",
    "REQUIRED": "A value that must be given is missing or blank.",
    "TOO_MANY": "Over a count limit (items in a list, records of a kind, or attempts); "
    "`message` gives the limit.",
    "OUT_OF_RANGE": "A number, date or page size is outside its allowed range.",
    "INVALID_TRANSITION": "The lifecycle does not allow this event from the record's status; "
    "`message` lists the events it allows now.",
    "GUARD_FAILED": "The lifecycle allows the event, but its condition does not hold yet "
    "(e.g. converting needs a primary contact); `message` says which.",
    "UNKNOWN_FIELD": "No live custom field with that key for this record type.",
    "NOT_TEXT": "The custom field holds text; the value given is not.",
    "NOT_A_NUMBER": "The custom field holds a number; the value given is not one.",
    "NOT_A_DATE": "The custom field holds a date (YYYY-MM-DD); the value given is not one.",
    "NOT_A_BOOLEAN": "The custom field holds true or false; the value given is neither.",
    "NOT_A_CHOICE": "The value is not one of the custom field's choices.",
    "NOT_PUBLISHED": "What it names (a template or a flow) has no published version to use.",
    "UNKNOWN_RECORD_TYPE": "The id names a kind of record this does not apply to "
    "(e.g. messages go to contacts and customers only).",
    "INVALID_EMAIL": "Not a deliverable email address.",
    "TEMPLATE_NOT_FOUND": "No message template with that key in your agency.",
    "INVALID_TIME_ZONE": "Not an IANA time zone name (e.g. Europe/London).",
    "PARENT_CYCLE": "The parent given would make the record its own ancestor.",
    "INVALID_CURRENCY": "Not an ISO 4217 currency code (e.g. EUR).",
    "STAGE_CLOSED": "The stage given is a won or lost one: records start in an open stage "
    "and close with `moveDeal`.",
    "IN_THE_PAST": "The time given has already passed.",
    "NO_ADDRESS": "The recipient has no email address to send to.",
    "DUPLICATE_NAME": "Another one in your agency already has this name.",
    "INVALID_URL": "Not an absolute http(s) URL.",
    "VERSION_NOT_FOUND": "It has no version with that number.",
    "KEY_TAKEN": "Another one in your agency already uses this key.",
    "NO_DRAFT": "It has no draft: create one first.",
    "INVALID_CREDENTIALS": "Wrong email or password (the answer never says which).",
    "TOO_MANY_ATTEMPTS": "Too many failed sign-ins: wait before trying again.",
    "INVALID_TOKEN": "The token is unknown, expired, already used or revoked.",
    "UNAUTHENTICATED": "Sign in first: send `Authorization: Bearer <access token or API key>`.",
    "INVALID_PHONE": "Not a phone number in international form (e.g. +44 20 7946 0958).",
    "SAME_STAGE": "The deal is in that stage already.",
    "ACTIVITIES_OPEN": "Required activities of the deal's stage are open; `message` names them.",
    "DUPLICATE_ACTIVITY": "Two activities of the stage have the same name.",
    "REASON_REQUIRED": "Closing a deal as lost needs a reason.",
    "SLOT_OVERLAPS": "Two proposed times overlap, or a time overlaps a meeting you have booked.",
    "STAGE_IN_USE": "Deals are still in this stage: move them out first.",
    "NO_OPEN_STAGE": "A pipeline needs at least one open stage (neither won nor lost): new "
    "deals start there.",
    "USER_NOT_FOUND": "The signed-in user no longer exists.",
    "EMAIL_TAKEN": "Another user already signs in with this email address.",
    "WEAK_PASSWORD": "The password is too short or too common; `message` says the rule.",
    "NAME_TAKEN": "Another one already has this name (or, for a user, this email).",
    "INVALID_LOCALE": "Not a locale tag (e.g. en-GB).",
    "DUPLICATE": "This mailbox folder is connected already.",
    "HOST_REFUSED": "The mail host is not one the API may connect to (e.g. a private address).",
    "SIGN_IN_FAILED": "The mail server refused the username or password.",
    "UNREACHABLE": "The mail server did not answer (host, port or security wrong, or down).",
    "TARGET_NOT_ALLOWED": "The webhook URL points at an address the API may not call "
    "(loopback, private or link-local).",
    "NOT_FINISHED": "The delivery is still pending or retrying: wait for it to finish.",
    "ENDPOINT_INACTIVE": "The webhook endpoint is turned off.",
    "KEY_MISMATCH": "The document names another flow than the one given: a key never changes.",
    "DRAFT_EXISTS": "It has a draft already: edit that one.",
    "DRAFT_OUTDATED": "Another version was published since the draft was made: make a new draft.",
    "INVALID_DEFINITION": "The flow definition has a problem; one error per problem, `field` "
    "being the path of the bad part (e.g. steps[3].goto).",
    "TOO_LARGE": "The document is over its size limit; `message` gives the limit.",
    "ALREADY_RUNNING": "A run of this flow on this record is active already.",
    "NOT_ACTIVE": "The run has ended already.",
    "NOT_STALLED": "The run is not stalled on a failed step, so there is nothing to retry.",
    "INVALID_TEMPLATE": "The template does not render: bad syntax or a variable that does not "
    "exist; `message` says where.",
    "TRANSACTIONAL": "A transactional template cannot be broadcast (it would ignore opt-outs).",
    "INVALID_AUDIENCE": "The audience filter has a bad value; `field` is its path under "
    "`audience`.",
    "UNKNOWN_DATE_FIELD": "No date field of that name (created_at or a date custom field).",
    "NOT_CANCELLABLE": "It has finished or was cancelled already.",
    "DUPLICATE_KEY": "Another custom field of this record type already uses this key.",
    "CHOICE_IN_USE": "Records still hold this choice: change them before removing it.",
    "ARCHIVED": "The custom field is archived: it can no longer be changed or set.",
    "FILE_TOO_LARGE": "The file is over the upload limit; `message` gives it.",
    "CONTENT_TYPE_NOT_ALLOWED": "This kind of file may not be uploaded.",
    "INVALID_CURSOR": "The `after` cursor is not one this API gave out.",
    "INVALID_FILTER": "The event filter names record types or event types that do not exist.",
    "ALREADY_ERASED": "The contact was erased on request: nothing is held about it any more.",
    "STORAGE_UNAVAILABLE": "This server has no document storage configured; send the request "
    "to one that has.",
    "IN_USE": "Something still depends on it (users, child units, holders); `message` names "
    "what: move them first.",
    "WRONG_PASSWORD": "The current password given is not yours; it counts as a failed sign-in.",
    "INVALID_LINK": "The reset link is forged, altered, expired or used already: ask for a new "
    "one.",
    "INVALID_CODE": "Not a code: 1 to 40 letters, digits, - and _, starting with a letter or "
    "digit.",
    "CODE_TAKEN": "Another one in your agency already uses this code.",
    "INVALID_PERIOD": "The period ends before it starts, or an active one would lose its start "
    "or end; `message` says which.",
    "INVALID_ORIGIN": "Not an https origin without a path (e.g. https://www.example.com; http "
    "only on localhost).",
    "INVALID_STATE": "Its status does not allow this (e.g. a draft or discarded campaign is not "
    "shared); `message` says why.",
    "DISCARDED": "It was discarded: it accepts no more changes.",
    "INVALID_HOURS": "The weekly hours are not seven days of [start minute, end minute] "
    "intervals within the day, not overlapping, with some time open; `message` says which.",
    "UNKNOWN_COUNTRY": "No public holidays are known for this country (ISO 3166 code) or "
    "subdivision.",
    "DUPLICATE_TARGET": "Two targets are for the same priority and customer rating.",
    "CLOSED": "The ticket is closed: it takes no more changes or replies (open a new one).",
    "INVALID_IMAGE": "The file is not an image that can be read (PNG, JPEG or WebP).",
    "IMAGE_TOO_LARGE": "The image has more pixels than the limit; `message` gives it.",
    "UNREADABLE": "The card could not be read in the time allowed: try a smaller or sharper "
    "photo, or create the contact by hand.",
    "ALREADY_CONFIRMED": "The card scan was confirmed already: its contact exists.",
    "UNKNOWN_COLUMN": "The file has no column of that name (the path names it).",
    "FIELD_MAPPED_TWICE": "Two columns are mapped to the same field.",
    "REQUIRED_FIELD_UNMAPPED": "No column is mapped to a field every record needs (a "
    "contact's first_name, a customer's name, a lead's title).",
    "NOT_STARTABLE": "Only an uploaded import that has not started can be started.",
    "UNSUPPORTED_FORMAT": "Upload a .csv (UTF-8) or an .xlsx file.",
    "BAD_ENCODING": "The CSV file is not UTF-8 text: save it as CSV UTF-8.",
    "BROKEN_FILE": "The file cannot be read as CSV or as an XLSX workbook.",
    "EMPTY_FILE": "The file has no rows (or only a header).",
    "NO_HEADER": "The first row must name every column, each once.",
    "TOO_MANY_ROWS": "The file has more rows than an import takes; `message` gives the limit.",
    "TOO_MANY_COLUMNS": "The file has more columns than an import takes; `message` gives the "
    "limit.",
    "SAME_RECORD_TWICE": "A record is named twice (as the survivor and merged, or merged twice).",
    "TOO_FEW": "A merge needs the survivor and at least one other record.",
    "ALREADY_UNDONE": "This merge was undone already.",
    "UNDO_EXPIRED": "The merge is past its undo window (`CRM_MERGE_UNDO_HOURS`).",
    "SUBSCRIBER_TOO_SLOW": "The subscriber fell too far behind the live events: reconnect "
    "with `after` set to the last cursor received, and nothing is missed.",
}


def described_enum(
    cls: E, name: str, description: str, values: Mapping[str, str] | None = None
) -> E:
    """`strawberry.enum` with a description on each value named in `values` (by member name)."""
    registered: Any = strawberry.enum(cls, name=name, description=description)
    definition = registered.__strawberry_definition__
    known = values or {}
    definition.values = [
        dataclasses.replace(value, description=known.get(value.name, value.description))
        for value in definition.values
    ]
    return registered  # type: ignore[no-any-return]


def error_code_enum(cls: E, name: str, about: str) -> E:
    """An enum of error codes, each described from `ERROR_CODES`."""
    return described_enum(
        cls,
        name,
        f"Why a mutation on {about} changed nothing: the `code` of its errors.",
        ERROR_CODES,
    )


def lifecycle_enums(
    machine: type[StateMachine],
    statuses: E,
    events: F,
    record: str,
    status_description: str = "",
    event_description: str = "",
) -> tuple[E, F]:
    """The status and event enums of a lifecycle, each value described from the machine."""
    lifecycle = describe(machine)
    names = {state.id: state.name for state in lifecycle.states}
    leaving: dict[str, list[str]] = {}
    entering: dict[str, list[tuple[str, str]]] = {}
    for t in lifecycle.transitions:
        leaving.setdefault(t.source, []).append(t.event.upper())
        entering.setdefault(t.event, []).append((names[t.source], names[t.target]))
    member_of = {str(member.value): member.name for member in statuses}
    state_values = {}
    for state in lifecycle.states:
        where = " Where a new one starts." if state.initial else ""
        after = (
            " Final: no event leaves it."
            if state.final
            else f" Events from here: {', '.join(dict.fromkeys(leaving.get(state.id, [])))}."
        )
        state_values[member_of[state.id]] = f"{state.name}.{where}{after}"
    event_values = {}
    for event in lifecycle.events:
        moves = entering.get(event.id, [])
        targets = sorted({target for _, target in moves})
        sources = ", ".join(dict.fromkeys(source for source, _ in moves))
        event_values[event.id.upper()] = f"{event.name}: from {sources} to {' or '.join(targets)}."
    return (
        described_enum(
            statuses,
            f"{record}Status",
            status_description
            or f"Where a {record.lower()} is in its lifecycle (`lifecycle(recordType: "
            f'"{record}")` has the whole graph).',
            state_values,
        ),
        described_enum(
            events,
            f"{record}Event",
            event_description
            or f"Events of the {record.lower()} lifecycle: each moves a record between statuses.",
            event_values,
        ),
    )
