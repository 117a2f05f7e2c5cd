"""Flow definitions as data: the document a sysadmin edits, and every check it must pass.

Pure (no I/O, no db import): the FlowRun workflow imports it to interpret a definition.
Checks that depend on the running system (record types, their events, lifecycle states and
events, fields) use a `FlowVocabulary` that the domain derives from the lifecycle machines and
passes in, so this module never restates them.

Adding a step type means one model here, its place in `Step` and `STEP_TYPES`, its references
in `_references`, its vocabulary checks in `_step_problems`, and one branch in the FlowRun
workflow (with an activity in `activities.flows` when it changes something).

`stop_when` lists conditions that end a whole run early, whatever step it is in (a `wait`, a
`wait_for_signal`, a stalled step): the contact replied, converted, became Not-Interested,
unsubscribed, or a calling task about it was done (`StopCondition`). Each is a domain event
(`STOP_EVENTS`) delivered to the run like the events its `wait_for_signal` steps wait for.

People a step names (`notify.to`, `assign.to`, `create_calling_task.assignee`) are a `Person`:
`owner` (the record's owner), a user id, `role:<role>` (one active user of the agency with that
role, chosen by `domain.flows.people`), or `assignee:<step id>` (whoever was given the calling
task that step created in this run).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from domain.flows.templates import FIELD_PATH, TemplateError, field_value, template_fields
from domain.message_kinds import RECIPIENT_TYPES, UNSUBSCRIBABLE, TemplateKey, TemplateKind
from domain.notification_kinds import NotificationKind
from domain.roles import Role

MAX_STEPS = 50
MAX_NAME_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 1_000
MAX_SUBJECT_LENGTH = 200
MAX_BODY_LENGTH = 10_000
MAX_MESSAGE_LENGTH = 1_000
MAX_CONDITION_VALUES = 50
MAX_VALUE_LENGTH = 200
SHORTEST_WAIT = timedelta(seconds=1)
LONGEST_WAIT = timedelta(days=366)
# `notify: {to: owner}` notifies whoever owns the record when the step runs: the user id in
# the record snapshot's `owner_id`.
OWNER = "owner"
OWNER_FIELD = "owner_id"
ROLE_PREFIX = "role:"
ASSIGNEE_PREFIX = "assignee:"
MAX_TITLE_LENGTH = 200
MAX_NOTES_LENGTH = 5_000
MAX_REPEATS = 100


class StopCondition(StrEnum):
    """Something about a contact that ends a run early (`stop_when`), and the event it is.

    - replied: an `email.received` event of the contact (inbound mail records none for
      auto-replies and bounces);
    - converted / not_interested: the contact's `contact.transitioned` to that status;
    - unsubscribed: a `message_preference.updated` of the contact after which it is opted out
      of a kind of message the flow sends (`FlowDefinition.sent_kinds`), or of every kind a
      person can unsubscribe from;
    - calling_task_done: a `calling_task.transitioned` to `done` of a calling task about the
      contact (any of them, not only the ones the run created).
    """

    REPLIED = "replied"
    CONVERTED = "converted"
    NOT_INTERESTED = "not_interested"
    UNSUBSCRIBED = "unsubscribed"
    CALLING_TASK_DONE = "calling_task_done"


# Each condition's event type, and the status its transition must reach (None: any).
STOP_EVENTS: dict[StopCondition, tuple[str, str | None]] = {
    StopCondition.REPLIED: ("email.received", None),
    StopCondition.CONVERTED: ("contact.transitioned", "converted"),
    StopCondition.NOT_INTERESTED: ("contact.transitioned", "not_interested"),
    StopCondition.UNSUBSCRIBED: ("message_preference.updated", None),
    StopCondition.CALLING_TASK_DONE: ("calling_task.transitioned", "done"),
}
# The record type stop conditions are about: they name a contact's replies, statuses and
# consent. A lead or a deal has a contact, but its runs hear of the record's own events only,
# so they are refused there rather than meaning something else.
STOP_RECORD_TYPE = "contact"


class FlowVersionStatus(StrEnum):
    """Where a stored version is: only a draft may change, only the published one starts runs."""

    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class FlowRunStatus(StrEnum):
    """Where a run is. Kept beside the definitions because the workflow itself reports it."""

    PENDING = "pending"  # its trigger is in the outbox; the relay has not started it yet
    RUNNING = "running"
    WAITING = "waiting"  # on a timer, or for an event of its record
    STALLED = "stalled"  # a step failed: waiting for a retry or a cancel
    COMPLETED = "completed"
    STOPPED = "stopped"  # a stop_when condition came: ended early (the run says which)
    FAILED = "failed"  # stalled for too long without a retry
    CANCELLED = "cancelled"


ACTIVE_RUN_STATUSES = frozenset(
    {FlowRunStatus.PENDING, FlowRunStatus.RUNNING, FlowRunStatus.WAITING, FlowRunStatus.STALLED}
)


# --- small value types ---------------------------------------------------------------------


def _shown(value: str) -> str:
    """A value quoted for an error message, cut short so a huge input cannot flood it."""
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _matching(pattern: str, what: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{_shown(value)} is not {what}")
        return value

    return AfterValidator(check)


FlowKey = Annotated[
    str, _matching(r"[a-z][a-z0-9-]{0,62}", "a flow key (a-z, 0-9 and -, at most 63)")
]
StepId = Annotated[
    str, _matching(r"[a-z][a-z0-9_-]{0,62}", "a step id (a-z, 0-9, - and _, at most 63)")
]
RecordType = Annotated[str, _matching(r"[a-z][a-z_]{0,49}", "a record type like contact")]
EventType = Annotated[
    str, _matching(r"[a-z][a-z_]{0,49}\.[a-z][a-z_]{0,29}", "an event type like contact.created")
]
# A lifecycle state or event id, as the machines declare them (`hot`, `mark_hot`).
LifecycleName = Annotated[str, _matching(r"[a-z][a-z0-9_]{0,49}", "a lifecycle name like hot")]
FieldPath = Annotated[
    str, _matching(FIELD_PATH.pattern[1:-1], "a record field like first_name or emails.0")
]

_DURATION = re.compile(
    r"(?:(?P<w>\d{1,4})w)?(?:(?P<d>\d{1,5})d)?(?:(?P<h>\d{1,6})h)?"
    r"(?:(?P<m>\d{1,7})m)?(?:(?P<s>\d{1,9})s)?"
)


def parse_duration(text: str) -> timedelta:
    """`30s`, `15m`, `2h`, `3d`, `1w`, or a combination in that order (`1d12h`)."""
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"{_shown(text)} is not a duration like 30m, 2h, 3d or 1w2d")
    amounts = {unit: int(amount or 0) for unit, amount in match.groupdict().items()}
    return timedelta(
        weeks=amounts["w"],
        days=amounts["d"],
        hours=amounts["h"],
        minutes=amounts["m"],
        seconds=amounts["s"],
    )


def _duration(text: str) -> str:
    span = parse_duration(text)
    if not SHORTEST_WAIT <= span <= LONGEST_WAIT:
        raise ValueError(f"{_shown(text)} must be between 1s and {LONGEST_WAIT.days}d")
    return text.strip()


Duration = Annotated[str, StringConstraints(max_length=30), AfterValidator(_duration)]


def _template(text: str) -> str:
    try:
        template_fields(text)
    except TemplateError as exc:
        raise ValueError(str(exc)) from exc
    return text


def _one_line(text: str) -> str:
    if "\n" in text or "\r" in text:
        raise ValueError("must be one line")
    return text


Subject = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_SUBJECT_LENGTH),
    AfterValidator(_one_line),
    AfterValidator(_template),
]
Body = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_BODY_LENGTH), AfterValidator(_template)
]
Message = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_MESSAGE_LENGTH), AfterValidator(_template)
]


def _recipient(value: str) -> str:
    """A literal address (it has an @) or a record field holding addresses."""
    if "@" in value:
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(f"{_shown(value)} is not an email address: {exc}") from exc
    if not FIELD_PATH.match(value):
        raise ValueError(f"{_shown(value)} is not an email address or a record field like emails.0")
    return value


Recipient = Annotated[
    str, StringConstraints(min_length=1, max_length=254), AfterValidator(_recipient)
]


_ROLES = ", ".join(role.value for role in Role)


def _person(value: str) -> str:
    if value == OWNER:
        return value
    if value.startswith(ROLE_PREFIX):
        role = value.removeprefix(ROLE_PREFIX)
        if role not in {r.value for r in Role}:
            raise ValueError(f"{_shown(role)} is not a role (known: {_ROLES})")
        return value
    if value.startswith(ASSIGNEE_PREFIX):
        step_id = value.removeprefix(ASSIGNEE_PREFIX)
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", step_id):
            raise ValueError(f"{_shown(step_id)} is not a step id")
        return value
    try:
        return str(UUID(value))
    except ValueError:
        raise ValueError(
            f"{_shown(value)} is not 'owner', a user id, 'role:<role>' or 'assignee:<step id>'"
        ) from None


# Who a step means: see the module docstring.
Person = Annotated[str, StringConstraints(max_length=80), AfterValidator(_person)]


def person_role(person: str) -> str | None:
    """The role a `role:<role>` person names, else None."""
    return person.removeprefix(ROLE_PREFIX) if person.startswith(ROLE_PREFIX) else None


def person_task_step(person: str) -> str | None:
    """The step an `assignee:<step id>` person names, else None."""
    return person.removeprefix(ASSIGNEE_PREFIX) if person.startswith(ASSIGNEE_PREFIX) else None


# --- the document --------------------------------------------------------------------------


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Trigger(_Document):
    """What starts a run: a domain event on a record (with the status it moved to), or a person."""

    event: EventType | None = None
    status: LifecycleName | None = None
    manual: bool | None = None  # None rather than False, so stored documents leave it out

    @model_validator(mode="after")
    def _one_kind(self) -> Trigger:
        if bool(self.manual) == (self.event is not None):
            raise ValueError("give either an event or manual: true")
        if self.status is not None and self.event is None:
            raise ValueError("a status needs an event (the transition event of the record)")
        return self


class RecordTime(_Document):
    """A time read from the record when the step runs, optionally shifted (`before: 1h`)."""

    field: FieldPath
    before: Duration | None = None
    after: Duration | None = None

    @model_validator(mode="after")
    def _one_shift(self) -> RecordTime:
        if self.before is not None and self.after is not None:
            raise ValueError("give before or after, not both")
        return self

    def shift(self) -> timedelta:
        if self.before is not None:
            return -parse_duration(self.before)
        if self.after is not None:
            return parse_duration(self.after)
        return timedelta()


def _until_kind(value: Any) -> str:
    return "record_time" if isinstance(value, Mapping | RecordTime) else "time"


Until = Annotated[
    Annotated[AwareDatetime, Tag("time")] | Annotated[RecordTime, Tag("record_time")],
    Discriminator(_until_kind),
]


class WaitStep(_Document):
    """Pause for a duration, or until a moment (a fixed time, or a time field of the record)."""

    type: Literal["wait"]
    id: StepId
    duration: Duration | None = None
    until: Until | None = None
    goto: StepId | None = None

    @model_validator(mode="after")
    def _one_end(self) -> WaitStep:
        if (self.duration is None) == (self.until is None):
            raise ValueError("give either duration or until")
        return self


class SendEmailStep(_Document):
    """Email the record (`to: emails.0`) or a fixed address: a message template of the agency
    (`template: welcome`), or an inline subject and body that take `{field}` variables (sent as
    `kind`, `sales` unless said). Either way it goes through the messaging path: recorded,
    consent checked when sent."""

    type: Literal["send_email"]
    id: StepId
    to: Recipient
    template: TemplateKey | None = None
    subject: Subject | None = None
    body: Body | None = None
    kind: TemplateKind | None = None
    goto: StepId | None = None

    @model_validator(mode="after")
    def _one_text(self) -> SendEmailStep:
        inline = self.subject is not None or self.body is not None
        if self.template is not None:
            if inline or self.kind is not None:
                raise ValueError("give a template, or a subject and body (and kind), not both")
        elif self.subject is None or self.body is None:
            raise ValueError("give a template, or both a subject and a body")
        return self


class TransitionStep(_Document):
    """Apply a lifecycle event to the record, through the same machine as the API."""

    type: Literal["transition"]
    id: StepId
    event: LifecycleName
    goto: StepId | None = None


class WaitForSignalStep(_Document):
    """Wait until the record has a domain event (e.g. moved to a status); else take `on_timeout`.

    The wait ends after `timeout`, or at `until` (a time, or a time field of the record read
    when the step starts). Events of the record's calling tasks reach it too
    (`calling_task.transitioned`); `task` narrows them to the task a create_calling_task step
    of this run created.
    """

    type: Literal["wait_for_signal"]
    id: StepId
    event: EventType
    status: LifecycleName | None = None
    task: StepId | None = None
    timeout: Duration | None = None
    until: Until | None = None
    on_timeout: StepId
    goto: StepId | None = None

    @model_validator(mode="after")
    def _one_end(self) -> WaitForSignalStep:
        if (self.timeout is None) == (self.until is None):
            raise ValueError("give either timeout or until")
        return self


class Operator(StrEnum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    CONTAINS = "contains"
    EMPTY = "empty"
    NOT_EMPTY = "not_empty"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


_LIST_OPERATORS = frozenset({Operator.IN, Operator.NOT_IN})
_UNARY_OPERATORS = frozenset({Operator.EMPTY, Operator.NOT_EMPTY})
_ORDER_OPERATORS = frozenset({Operator.GT, Operator.GTE, Operator.LT, Operator.LTE})


def _is_scalar(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_VALUE_LENGTH
    return isinstance(value, bool | int | float)


def _condition_value(value: Any) -> Any:
    if value is None or _is_scalar(value):
        return value
    if (
        isinstance(value, list)
        and len(value) <= MAX_CONDITION_VALUES
        and all(_is_scalar(item) for item in value)
    ):
        return value
    raise ValueError(
        f"must be a number, true/false, a text of at most {MAX_VALUE_LENGTH} characters, "
        f"or a list of at most {MAX_CONDITION_VALUES} of them"
    )


def _same(actual: Any, expected: Any) -> bool:
    # True == 1 in Python; a flag and a number are never the same value here.
    if isinstance(actual, bool) != isinstance(expected, bool):
        return False
    return bool(actual == expected)


def _comparable(actual: Any, expected: Any) -> bool:
    numbers = (int, float)
    if isinstance(actual, bool) or isinstance(expected, bool):
        return False
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        return True
    return isinstance(actual, str) and isinstance(expected, str)


class Condition(_Document):
    """A test of one record field: `{field: status, operator: in, value: [new, cold]}`."""

    field: FieldPath
    operator: Operator = Operator.EQ
    value: Annotated[Any, AfterValidator(_condition_value)] = None

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Condition:
        if self.operator in _UNARY_OPERATORS:
            if self.value is not None:
                raise ValueError(f"{self.operator} takes no value")
        elif self.operator in _LIST_OPERATORS:
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"{self.operator} needs a list of values")
        elif self.value is None or isinstance(self.value, list):
            raise ValueError(f"{self.operator} needs one value")
        elif self.operator in _ORDER_OPERATORS and isinstance(self.value, bool):
            raise ValueError(f"{self.operator} needs a number or a text")
        return self

    def holds(self, record: Mapping[str, Any]) -> bool:
        """Whether the record's field passes; a missing field only ever passes `empty`."""
        actual = field_value(record, self.field)
        expected = self.value
        if self.operator is Operator.EMPTY:
            return actual in (None, "", [], {})
        if self.operator is Operator.NOT_EMPTY:
            return actual not in (None, "", [], {})
        if self.operator is Operator.EQ:
            return _same(actual, expected)
        if self.operator is Operator.NE:
            return not _same(actual, expected)
        if self.operator is Operator.IN:
            return any(_same(actual, item) for item in expected)
        if self.operator is Operator.NOT_IN:
            return not any(_same(actual, item) for item in expected)
        if self.operator is Operator.CONTAINS:
            if isinstance(actual, list):
                return any(_same(item, expected) for item in actual)
            if isinstance(actual, str) and isinstance(expected, str):
                return expected.casefold() in actual.casefold()
            return False
        if not _comparable(actual, expected):
            return False
        if self.operator is Operator.GT:
            return bool(actual > expected)
        if self.operator is Operator.GTE:
            return bool(actual >= expected)
        if self.operator is Operator.LT:
            return bool(actual < expected)
        return bool(actual <= expected)


class BranchStep(_Document):
    """Go to `then` when the condition holds for the record as it is now, else to `else`."""

    type: Literal["branch"]
    id: StepId
    condition: Condition
    then: StepId
    else_: StepId = Field(alias="else")


class NotifyStep(_Document):
    """Leave a notification for a person (the record's owner, a user, one user of a role...)."""

    type: Literal["notify"]
    id: StepId
    to: Person
    message: Message
    # What it is, so each person's notification settings apply: reminder, escalation, or
    # (left out) flow.
    kind: NotificationKind | None = None
    goto: StepId | None = None


Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_TITLE_LENGTH),
    AfterValidator(_one_line),
    AfterValidator(_template),
]
Notes = Annotated[str, StringConstraints(max_length=MAX_NOTES_LENGTH), AfterValidator(_template)]


class CallAbout(StrEnum):
    """Whom a calling task a flow creates is about.

    `record`: the run's record (a contact, customer, lead or deal; for a calling task: its
    contact and customer); `contact` / `customer`: the record's contact or customer only.
    """

    RECORD = "record"
    CONTACT = "contact"
    CUSTOMER = "customer"


class CreateCallingTaskStep(_Document):
    """Create a calling task (title and notes take variables), due `due_in` from now.

    Created through the calling task service, once per step visit: a retried activity finds
    the task it made. `wait_for_signal` with `task: <this step id>` waits for its events.
    """

    type: Literal["create_calling_task"]
    id: StepId
    about: CallAbout = CallAbout.RECORD
    title: Title
    notes: Notes = ""
    due_in: Duration
    assignee: Person = OWNER
    goto: StepId | None = None


class AssignStep(_Document):
    """Give the record to a person: as its owner, or (customers) as who runs its operations."""

    type: Literal["assign"]
    id: StepId
    to: Person
    as_: LifecycleName = Field(default="owner", alias="as")
    goto: StepId | None = None


class RepeatStep(_Document):
    """Go back to `again` until this step is reached `times` times; that time go on to `then`.

    A counter for loops such as "remind every 3 days, escalate after the third reminder".
    """

    type: Literal["repeat"]
    id: StepId
    times: Annotated[int, Field(ge=1, le=MAX_REPEATS)]
    again: StepId
    then: StepId


class EndStep(_Document):
    """Finish the run."""

    type: Literal["end"]
    id: StepId


Step = Annotated[
    WaitStep
    | SendEmailStep
    | TransitionStep
    | WaitForSignalStep
    | BranchStep
    | NotifyStep
    | CreateCallingTaskStep
    | AssignStep
    | RepeatStep
    | EndStep,
    Field(discriminator="type"),
]
STEP_TYPES = frozenset(
    {
        "wait",
        "send_email",
        "transition",
        "wait_for_signal",
        "branch",
        "notify",
        "create_calling_task",
        "assign",
        "repeat",
        "end",
    }
)


def _unsubscribed(sent: frozenset[str], opted_out: set[str]) -> bool:
    """Opted out of a kind the flow sends, or of everything a person can unsubscribe from."""
    return bool(sent & opted_out) or opted_out >= {str(k) for k in UNSUBSCRIBABLE}


def _distinct_conditions(conditions: list[StopCondition]) -> list[StopCondition]:
    repeated = sorted({str(c) for c in conditions if conditions.count(c) > 1})
    if repeated:
        raise ValueError(f"listed more than once: {', '.join(repeated)}")
    return conditions


class FlowDefinition(_Document):
    """One version of a flow: what starts it, for which record type, and its steps in order.

    A step without `goto` continues with the next one in the list; the last one ends the run.
    """

    key: FlowKey
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    description: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION_LENGTH)] = ""
    version: Annotated[int, Field(ge=1)] = 1
    record_type: RecordType
    trigger: Trigger
    steps: Annotated[list[Step], Field(min_length=1, max_length=MAX_STEPS)]
    # Left out of stored documents when empty (`document` drops it), so versions written
    # before it existed read back unchanged.
    stop_when: Annotated[list[StopCondition], AfterValidator(_distinct_conditions)] | None = None

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def following(self, step: Step) -> str | None:
        """Where a step goes when done: its `goto`, else the next step in the list, else the end."""
        goto = getattr(step, "goto", None)
        if goto is not None:
            return str(goto)
        index = next(i for i, candidate in enumerate(self.steps) if candidate.id == step.id)
        return self.steps[index + 1].id if index + 1 < len(self.steps) else None

    def successors(self, step: Step) -> list[str]:
        if isinstance(step, EndStep):
            return []
        if isinstance(step, BranchStep):
            return [step.then, step.else_]
        if isinstance(step, RepeatStep):
            return [step.again, step.then]
        after = self.following(step)
        found = [after] if after is not None else []
        if isinstance(step, WaitForSignalStep):
            found.append(step.on_timeout)
        return found

    def listens_to(self) -> list[str]:
        """The event types the run waits for or stops on, so only those are delivered to it."""
        waited = {s.event for s in self.steps if isinstance(s, WaitForSignalStep)}
        return sorted(waited | {STOP_EVENTS[c][0] for c in self.stop_when or ()})

    def sent_kinds(self) -> frozenset[str]:
        """The kinds of message the flow's emails are: an inline step's kind (sales unless
        said), and sales for a template (what flow templates are written as; a template of
        another kind is still refused at send time to whoever opted out of it)."""
        return frozenset(
            str(s.kind or TemplateKind.SALES) for s in self.steps if isinstance(s, SendEmailStep)
        )

    def stop_condition(
        self, event_type: str, status: str | None, opted_out: list[str] | None
    ) -> StopCondition | None:
        """The stop_when condition an event of the run's record meets, if any (first listed)."""
        for condition in self.stop_when or ():
            wanted_type, wanted_status = STOP_EVENTS[condition]
            if event_type != wanted_type or wanted_status not in (None, status):
                continue
            if condition is StopCondition.UNSUBSCRIBED and not _unsubscribed(
                self.sent_kinds(), set(opted_out or ())
            ):
                continue
            return condition
        return None

    def document(self) -> dict[str, Any]:
        """The definition as JSON values, the way it is stored, exported and sent to a run."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- problems ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DefinitionProblem:
    """One reason a definition cannot be published, at the path of the bad part."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InvalidDefinition(ValueError):
    """A definition with problems; every one is listed, not only the first."""

    def __init__(self, problems: list[DefinitionProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class RecordVocabulary:
    """What flows may use of one record type, derived from its lifecycle machine and snapshot."""

    events: frozenset[str]  # domain event types of the record: contact.created, ...
    transition_event: str  # the event type that carries a status change (its `to`)
    states: frozenset[str]
    lifecycle_events: frozenset[str]
    fields: frozenset[str]  # field paths, nested ones included: address, address.city
    list_fields: frozenset[str]  # fields holding lists, indexable: emails -> emails.0
    has_owner: bool  # whether the snapshot carries OWNER_FIELD
    # Record types whose events also reach runs of this one (a customer's calling tasks).
    related: frozenset[str] = frozenset()
    # What `create_calling_task.about` may say on this record type (empty: no calls about it).
    calls_about: frozenset[str] = frozenset()
    # What `assign.as` may say: the record's people a flow may set.
    assignable_as: frozenset[str] = frozenset()


FlowVocabulary = Mapping[str, RecordVocabulary]

_UNION_TAGS = STEP_TYPES | {"time", "record_time"}


def _path(location: tuple[int | str, ...]) -> str:
    """pydantic's error location as the path a sysadmin reads: `steps[3].duration`."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in _UNION_TAGS:
            path += f".{part}" if path else part
    return path


def _message(error: ErrorDetails) -> str:
    """pydantic's message, reworded where a sysadmin would not recognise its terms."""
    kind = error["type"]
    if kind == "union_tag_not_found":
        return f"a step needs a type: one of {', '.join(sorted(STEP_TYPES))}"
    if kind == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag", "")
        return f"unknown step type '{tag}' (known: {', '.join(sorted(STEP_TYPES))})"
    if kind == "enum" and error["loc"][:1] == ("stop_when",):
        return f"unknown stop condition (known: {', '.join(StopCondition)})"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required"
    return error["msg"].removeprefix("Value error, ")


def _pydantic_problems(error: ValidationError) -> list[DefinitionProblem]:
    return [
        DefinitionProblem(_path(item["loc"]), _message(item))
        for item in error.errors(include_url=False, include_input=False)
    ]


def _references(step: Step) -> Iterator[tuple[str, str]]:
    """(field, step id) for every step a step names."""
    goto = getattr(step, "goto", None)
    if goto is not None:
        yield "goto", goto
    if isinstance(step, BranchStep):
        yield "then", step.then
        yield "else", step.else_
    if isinstance(step, WaitForSignalStep):
        yield "on_timeout", step.on_timeout
    if isinstance(step, RepeatStep):
        yield "again", step.again
        yield "then", step.then


def _people(step: Step) -> Iterator[tuple[str, str]]:
    """(field, person) for every person a step names."""
    if isinstance(step, NotifyStep | AssignStep):
        yield "to", step.to
    if isinstance(step, CreateCallingTaskStep):
        yield "assignee", step.assignee


def _task_steps(step: Step) -> Iterator[tuple[str, str]]:
    """(field, step id) for every create_calling_task step a step names."""
    if isinstance(step, WaitForSignalStep) and step.task is not None:
        yield "task", step.task
    for field, person in _people(step):
        task_step = person_task_step(person)
        if task_step is not None:
            yield field, task_step


def _pauses(step: Step) -> bool:
    """A step that lets time pass; `until` may lie in the past, so only a duration counts."""
    return isinstance(step, WaitForSignalStep) or (
        isinstance(step, WaitStep) and step.duration is not None
    )


def _loops_without_pause(definition: FlowDefinition) -> list[list[str]]:
    """Strongly connected groups of steps that can repeat with no time passing (Tarjan)."""
    steps = {step.id: step for step in definition.steps if not _pauses(step)}
    edges = {
        step_id: [s for s in definition.successors(step) if s in steps]
        for step_id, step in steps.items()
    }
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        on_stack.add(node)
        for successor in edges[node]:
            if successor not in order:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], order[successor])
        if low[node] == order[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in edges[node]:
                loops.append(group)

    for step_id in steps:
        if step_id not in order:
            visit(step_id)
    return loops


def _reference_problems(
    steps: Mapping[int, Step], ids: Mapping[str, int]
) -> list[DefinitionProblem]:
    """Duplicate ids and references to steps that do not exist (or create no calling task).

    `steps` are the parsed steps by their index; `ids` every step id of the document with its
    first index, those of steps that did not parse included (a reference to one is not unknown).
    """
    problems: list[DefinitionProblem] = []
    for i, step in steps.items():
        if ids[step.id] != i:
            problems.append(
                DefinitionProblem(
                    f"steps[{i}].id", f"duplicate step id '{step.id}' (also steps[{ids[step.id]}])"
                )
            )
    for i, step in steps.items():
        for field, target in _references(step):
            if target not in ids:
                problems.append(
                    DefinitionProblem(f"steps[{i}].{field}", f"unknown step '{target}'")
                )
    for i, step in steps.items():
        for field, target in _task_steps(step):
            if target not in ids:
                problems.append(
                    DefinitionProblem(f"steps[{i}].{field}", f"unknown step '{target}'")
                )
            elif ids[target] in steps and not isinstance(steps[ids[target]], CreateCallingTaskStep):
                problems.append(
                    DefinitionProblem(
                        f"steps[{i}].{field}", f"step '{target}' does not create a calling task"
                    )
                )
    return problems


def _first_indexes(ids: list[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, step_id in enumerate(ids):
        index.setdefault(step_id, i)
    return index


def _graph_problems(definition: FlowDefinition) -> list[DefinitionProblem]:
    index = _first_indexes([step.id for step in definition.steps])
    problems = _reference_problems(dict(enumerate(definition.steps)), index)
    if problems:
        return problems  # reachability and loops only mean something over sound references

    reached = {definition.steps[0].id}
    frontier = [definition.steps[0]]
    while frontier:
        for successor in definition.successors(frontier.pop()):
            if successor not in reached:
                reached.add(successor)
                frontier.append(definition.step(successor))
    for i, step in enumerate(definition.steps):
        if step.id not in reached:
            problems.append(
                DefinitionProblem(
                    f"steps[{i}]", f"step '{step.id}' is unreachable from the first step"
                )
            )
    for loop in _loops_without_pause(definition):
        first = min(index[step_id] for step_id in loop)
        names = ", ".join(f"'{s}'" for s in sorted(loop, key=index.__getitem__))
        problems.append(
            DefinitionProblem(
                f"steps[{first}]",
                f"steps {names} form a cycle without a wait (add a wait or wait_for_signal to it)",
            )
        )
    return problems


def _known_field(path: str, record: RecordVocabulary) -> bool:
    if path in record.fields:
        return True
    parent, _, last = path.rpartition(".")
    return last.isdigit() and parent in record.list_fields


def _listing(names: frozenset[str]) -> str:
    return ", ".join(sorted(names))


def _event_problems(
    where: str, event: str, status: str | None, record_type: str, record: RecordVocabulary
) -> list[DefinitionProblem]:
    if event not in record.events:
        return [
            DefinitionProblem(
                f"{where}.event",
                f"unknown event '{event}' for {record_type} records "
                f"(known: {_listing(record.events)})",
            )
        ]
    if status is None:
        return []
    if event != record.transition_event:
        return [
            DefinitionProblem(
                f"{where}.status", f"a status can only be given with {record.transition_event}"
            )
        ]
    if status not in record.states:
        return [
            DefinitionProblem(
                f"{where}.status",
                f"unknown status '{status}' (known: {_listing(record.states)})",
            )
        ]
    return []


def _template_problems(
    where: str, template: str, record: RecordVocabulary
) -> list[DefinitionProblem]:
    return [
        DefinitionProblem(where, f"unknown field {{{path}}}")
        for path in template_fields(template)
        if not _known_field(path, record)
    ]


def _signal_problems(
    where: str, step: WaitForSignalStep, record_type: str, vocabulary: FlowVocabulary
) -> list[DefinitionProblem]:
    """The event is the record's own, or one of a related record type (its calling tasks)."""
    record = vocabulary[record_type]
    source = step.event.partition(".")[0]
    if step.task is not None and (source != "calling_task" or source not in record.related):
        return [
            DefinitionProblem(
                f"{where}.task",
                "task needs a calling_task event, on a record type whose calling tasks "
                f"reach its runs (known: {_listing(record.related) or 'none'})",
            )
        ]
    if source != record_type and source in record.related and source in vocabulary:
        return _event_problems(where, step.event, step.status, source, vocabulary[source])
    return _event_problems(where, step.event, step.status, record_type, record)


def _person_problems(
    where: str, person: str, record_type: str, record: RecordVocabulary
) -> list[DefinitionProblem]:
    if person == OWNER and not record.has_owner:
        return [DefinitionProblem(where, f"{record_type} records have no owner")]
    return []


def _record_time_problems(
    where: str, until: Until | None, record: RecordVocabulary
) -> list[DefinitionProblem]:
    if isinstance(until, RecordTime) and not _known_field(until.field, record):
        return [DefinitionProblem(f"{where}.until.field", f"unknown field '{until.field}'")]
    return []


def _step_problems(
    i: int, step: Step, record_type: str, vocabulary: FlowVocabulary
) -> list[DefinitionProblem]:
    where = f"steps[{i}]"
    record = vocabulary[record_type]
    problems: list[DefinitionProblem] = []
    for field, person in _people(step):
        problems += _person_problems(f"{where}.{field}", person, record_type, record)
    if isinstance(step, WaitStep):
        problems += _record_time_problems(where, step.until, record)
    elif isinstance(step, SendEmailStep):
        if "@" not in step.to and not _known_field(step.to, record):
            problems.append(DefinitionProblem(f"{where}.to", f"unknown field '{step.to}'"))
        if step.template is not None and record_type not in RECIPIENT_TYPES:
            problems.append(
                DefinitionProblem(
                    f"{where}.template",
                    f"templates are written for contacts and customers, not {record_type} "
                    "records (write the subject and body inline)",
                )
            )
        if step.subject is not None and step.body is not None:
            problems += _template_problems(f"{where}.subject", step.subject, record)
            problems += _template_problems(f"{where}.body", step.body, record)
    elif isinstance(step, TransitionStep):
        if not record.lifecycle_events:
            problems.append(
                DefinitionProblem(
                    f"{where}.event",
                    f"flows change no {record_type} status (wait for its changes instead)",
                )
            )
        elif step.event not in record.lifecycle_events:
            problems.append(
                DefinitionProblem(
                    f"{where}.event",
                    f"unknown lifecycle event '{step.event}' for {record_type} records "
                    f"(known: {_listing(record.lifecycle_events)})",
                )
            )
    elif isinstance(step, WaitForSignalStep):
        problems += _signal_problems(where, step, record_type, vocabulary)
        problems += _record_time_problems(where, step.until, record)
    elif isinstance(step, BranchStep):
        condition = step.condition
        if not _known_field(condition.field, record):
            problems.append(
                DefinitionProblem(f"{where}.condition.field", f"unknown field '{condition.field}'")
            )
        elif condition.field == "status":
            values = condition.value if isinstance(condition.value, list) else [condition.value]
            problems += [
                DefinitionProblem(
                    f"{where}.condition.value",
                    f"unknown status '{value}' (known: {_listing(record.states)})",
                )
                for value in values
                if isinstance(value, str) and value not in record.states
            ]
    elif isinstance(step, NotifyStep):
        problems += _template_problems(f"{where}.message", step.message, record)
    elif isinstance(step, CreateCallingTaskStep):
        if step.about not in record.calls_about:
            known = _listing(record.calls_about) or f"none: flows make no calls about {record_type}"
            problems.append(
                DefinitionProblem(
                    f"{where}.about", f"cannot call about '{step.about}' here (known: {known})"
                )
            )
        problems += _template_problems(f"{where}.title", step.title, record)
        problems += _template_problems(f"{where}.notes", step.notes, record)
    elif isinstance(step, AssignStep) and step.as_ not in record.assignable_as:
        problems.append(
            DefinitionProblem(
                f"{where}.as",
                f"{record_type} records cannot be assigned as '{step.as_}' "
                f"(known: {_listing(record.assignable_as) or 'none'})",
            )
        )
    return problems


def _vocabulary_problems(
    record_type: str,
    trigger: Trigger | None,
    steps: Mapping[int, Step],
    stop_when: list[StopCondition] | None,
    vocabulary: FlowVocabulary,
) -> list[DefinitionProblem]:
    """The names the parts use (events, states, fields, people), checked against the record
    type's vocabulary; a part that did not parse (None, or missing from `steps`) is skipped."""
    record = vocabulary.get(record_type)
    if record is None:
        return [
            DefinitionProblem(
                "record_type",
                f"unknown record type '{record_type}' (known: {_listing(frozenset(vocabulary))})",
            )
        ]
    problems: list[DefinitionProblem] = []
    if trigger is not None and trigger.event is not None:
        problems += _event_problems("trigger", trigger.event, trigger.status, record_type, record)
    for i, step in steps.items():
        problems += _step_problems(i, step, record_type, vocabulary)
    if stop_when and record_type != STOP_RECORD_TYPE:
        problems.append(
            DefinitionProblem(
                "stop_when",
                f"stop conditions are about a contact (its replies, status, consent and "
                f"calling tasks): flows on {record_type} records cannot use them",
            )
        )
    return problems


_STEP: TypeAdapter[Step] = TypeAdapter(Step)
_RECORD_TYPE: TypeAdapter[str] = TypeAdapter(RecordType)
_TRIGGER: TypeAdapter[Trigger] = TypeAdapter(Trigger)


def _parsed_or_none(adapter: TypeAdapter[Any], value: object) -> Any:
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


def _problems_of_sound_parts(
    data: object, vocabulary: FlowVocabulary | None
) -> list[DefinitionProblem]:
    """For a document that did not parse: the problems of the parts that did (the references
    of its sound steps, the names they and the trigger use), so one check lists every problem.
    Reachability and loops need every step, so they wait for a document that parses."""
    raw_steps = data.get("steps") if isinstance(data, Mapping) else None
    if not isinstance(data, Mapping) or not isinstance(raw_steps, list):
        return []
    steps: dict[int, Step] = {}
    ids: list[str] = []
    for i, raw in enumerate(raw_steps):
        step = _parsed_or_none(_STEP, raw)
        if step is not None:
            steps[i] = step
        raw_id = (
            step.id if step is not None else raw.get("id") if isinstance(raw, Mapping) else None
        )
        ids.append(raw_id if isinstance(raw_id, str) else f"#{i}")
    problems = _reference_problems(steps, _first_indexes(ids))
    record_type = _parsed_or_none(_RECORD_TYPE, data.get("record_type"))
    if vocabulary is not None and record_type is not None:
        trigger = _parsed_or_none(_TRIGGER, data.get("trigger"))
        problems += _vocabulary_problems(record_type, trigger, steps, None, vocabulary)
    return problems


def definition_problems(
    data: object, vocabulary: FlowVocabulary | None = None
) -> list[DefinitionProblem]:
    """Every problem of a definition (a mapping as read from YAML or JSON, or a parsed one).

    Without a vocabulary only the document itself is checked: its shape, limits and step graph.
    """
    try:
        definition = (
            data if isinstance(data, FlowDefinition) else FlowDefinition.model_validate(data)
        )
    except ValidationError as exc:
        return _pydantic_problems(exc) + _problems_of_sound_parts(data, vocabulary)
    problems = _graph_problems(definition)
    if vocabulary is not None:
        steps = dict(enumerate(definition.steps))
        problems += _vocabulary_problems(
            definition.record_type, definition.trigger, steps, definition.stop_when, vocabulary
        )
    return problems


def read_definition(data: object, vocabulary: FlowVocabulary | None = None) -> FlowDefinition:
    """The parsed definition; raises `InvalidDefinition` listing every problem."""
    problems = definition_problems(data, vocabulary)
    if problems:
        raise InvalidDefinition(problems)
    return data if isinstance(data, FlowDefinition) else FlowDefinition.model_validate(data)
