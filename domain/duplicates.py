"""Possible duplicates of contacts and customers: which existing records a record (or a row
about to be imported) may be the same person or company as, with a score and the reasons.

How a lookup stays cheap at a million contacts
----------------------------------------------
Every contact and customer keeps normalised keys in the indexed `duplicate_key` table
(`db.duplicates`: emails, E.164 phones, websites, and name blocking keys). A lookup is:

1. the probe's own keys, looked up by equality on `(agency_id, record_type, key)`: exact
   email, phone and website matches, and the records sharing a name block;
2. at most `BLOCK_LIMIT` records per name block (a block as common as `john|s` is cut there,
   newest first), so the fuzzy step compares a bounded number of names;
3. rapidfuzz over those few candidates: names with `token_sort_ratio` (order-insensitive),
   companies with `token_sort_ratio` after dropping legal suffixes.

No step reads rows outside the probe's keys, so the time per record does not grow with the
agency's size (`make bench` measures it at 1,000,000 contacts on PostgreSQL).

Scores (0-100, a match is reported from `THRESHOLD`):
- the same email address: 100 (reason EMAIL);
- the same phone number: 95 (PHONE);
- the same website (customers): 95 (WEBSITE);
- a similar name (contacts, at least `NAME_SIMILARITY`) at a similar company (COMPANY): the
  name's similarity plus 5. A name alone, or at another company, scores 25 less, so it is
  never a match by itself (namesakes are common: at a million contacts, name-only matches
  were mostly other people), only a reason beside an email or phone;
- a similar company name (customers): its similarity.
The reasons list every kind of evidence found, the score is the strongest.

`find_duplicates` is a plain function over a batch of probes, for an import's rows as well as
one record (an import also matches its rows with each other through `BatchMatches`);
`duplicates_of` is the API's view of one record, limited to what the caller may read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from rapidfuzz import fuzz, process
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Count

from db.agencies import Agency
from db.contacts import Contact
from db.customers import Customer
from db.duplicates import (
    EMAIL,
    NAME,
    PHONE,
    WEBSITE,
    DuplicateKey,
    company_words,
    contact_keys,
    customer_keys,
    folded,
)
from domain.actors import Actor
from domain.errors import DomainError
from domain.sales_records import scoped

THRESHOLD = 80
NAME_SIMILARITY = 90
COMPANY_SIMILARITY = 85
NAME_ALONE_PENALTY = 25
BLOCK_LIMIT = 1000
EXACT_LIMIT = 50
MAX_MATCHES = 20
CHUNK = 5_000
T = TypeVar("T", str, UUID)


class RecordType(StrEnum):
    CONTACT = "contact"
    CUSTOMER = "customer"


class DuplicateReason(StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    WEBSITE = "WEBSITE"
    NAME = "NAME"
    COMPANY = "COMPANY"


class DuplicateErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"


@dataclass(frozen=True, slots=True)
class Probe:
    """What is known of a record to check: a contact's names, company, emails and phones, or
    a customer's name (as `company`), website and billing email (as `emails`). Phones in a
    national form are read with `region` (an import's rows; stored contacts are E.164)."""

    record_type: RecordType
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    website: str = ""
    exclude_id: UUID | None = None

    def keys(self, region: str = "") -> list[str]:
        if self.record_type is RecordType.CUSTOMER:
            return customer_keys(self.company, self.website, self.emails[0] if self.emails else "")
        return contact_keys(self.first_name, self.last_name, self.emails, self.phones, region)


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    record_type: RecordType
    record_id: UUID
    display_name: str
    score: int
    reasons: list[DuplicateReason] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored record met in a lookup: its name (a person's full name) and company."""

    record_type: RecordType
    record_id: UUID
    name: str
    company: str


def probe_of(record: Contact | Customer) -> Probe:
    """The probe a stored record is checked with (itself left out of its matches)."""
    if isinstance(record, Contact):
        return Probe(
            RecordType.CONTACT,
            first_name=record.first_name,
            last_name=record.last_name,
            company=record.company_name,
            emails=tuple(record.emails),
            phones=tuple(record.phones),
            exclude_id=record.id,
        )
    return Probe(
        RecordType.CUSTOMER,
        company=record.name,
        emails=(record.billing_email,) if record.billing_email else (),
        website=record.website,
        exclude_id=record.id,
    )


async def agency_region(agency_id: UUID) -> str:
    """The default region for national phone numbers: the agency's country (may be empty)."""
    country = await Agency.filter(id=agency_id).values_list("country", flat=True)
    return str(country[0]) if country else ""


async def find_duplicates(
    agency_id: UUID,
    probes: Sequence[Probe],
    region: str = "",
    connection: BaseDBAsyncClient | None = None,
) -> list[list[DuplicateMatch]]:
    """For each probe, the agency's live records that may be the same, best first.

    Costs one indexed query for the exact keys of the whole batch, one per distinct name
    block, and one per record type to load the candidates: never a scan.
    """
    keys_of = [probe.keys(region) for probe in probes]
    candidates: list[dict[UUID, set[str]]] = [defaultdict(set) for _ in probes]
    for record_type in RecordType:
        wanted = [i for i, p in enumerate(probes) if p.record_type is record_type]
        exact = {k for i in wanted for k in keys_of[i] if not k.startswith(NAME)}
        blocks = {k for i in wanted for k in keys_of[i] if k.startswith(NAME)}
        found: dict[str, list[UUID]] = defaultdict(list)
        for chunk in _chunks(sorted(exact)):
            rows = (
                await DuplicateKey.filter(
                    agency_id=agency_id, record_type=record_type, key__in=chunk
                )
                .using_db(connection)
                .limit(EXACT_LIMIT * len(chunk))
                .values_list("key", "record_id")
            )
            for key, record_id in rows:
                found[key].append(record_id)
        found.update(await _block_members(agency_id, record_type, blocks, connection))
        for i in wanted:
            for key in keys_of[i]:
                for record_id in found.get(key, ()):
                    if record_id != probes[i].exclude_id:
                        candidates[i][record_id].add(key)
    records = await _live_records(agency_id, probes, candidates, connection)
    return [
        _ranked(probe, found, records, keys_of[i])
        for i, (probe, found) in enumerate(zip(probes, candidates, strict=True))
    ]


class BatchMatches:
    """The records met so far in one batch (an import's rows, created or updated), matched by
    the same keys and scores as stored records: two rows of one file are duplicates of each
    other exactly when a row and a stored record would be. In memory, a batch's worth."""

    def __init__(self, region: str = "") -> None:
        self._region = region
        self._by_key: dict[str, dict[UUID, Candidate]] = defaultdict(dict)

    def add(self, record_id: UUID, probe: Probe) -> None:
        """A record as the probe describes it (after the batch created or changed it)."""
        name = (
            f"{probe.first_name} {probe.last_name}".strip()
            if probe.record_type is RecordType.CONTACT
            else probe.company
        )
        candidate = Candidate(probe.record_type, record_id, name, probe.company)
        for key in probe.keys(self._region):
            self._by_key[key][record_id] = candidate

    def matches(self, probe: Probe) -> list[DuplicateMatch]:
        """The batch's records the probe may be, best first (as `find_duplicates`)."""
        shared: dict[UUID, set[str]] = defaultdict(set)
        records: dict[UUID, Candidate] = {}
        keys = probe.keys(self._region)
        for key in keys:
            for record_id, candidate in self._by_key.get(key, {}).items():
                if record_id != probe.exclude_id:
                    shared[record_id].add(key)
                    records[record_id] = candidate
        return _ranked(probe, shared, records, keys)


async def _block_members(
    agency_id: UUID,
    record_type: RecordType,
    blocks: set[str],
    connection: BaseDBAsyncClient | None,
) -> dict[str, list[UUID]]:
    """The records of each name block. Their sizes are counted in one query, then the blocks
    within `BLOCK_LIMIT` are read together in one more, and only a larger block by itself
    (its newest `BLOCK_LIMIT`): a batch of 500 rows costs a few statements, not 1,000."""
    members: dict[str, list[UUID]] = defaultdict(list)
    sizes: dict[str, int] = {}
    for chunk in _chunks(sorted(blocks)):
        counted = (
            await DuplicateKey.filter(agency_id=agency_id, record_type=record_type, key__in=chunk)
            .using_db(connection)
            .annotate(size=Count("id"))
            .group_by("key")
            .values_list("key", "size")
        )
        sizes.update((str(key), int(size)) for key, size in counted)
    small = sorted(block for block, size in sizes.items() if size <= BLOCK_LIMIT)
    for chunk in _by_rows(small, sizes):
        rows = (
            await DuplicateKey.filter(agency_id=agency_id, record_type=record_type, key__in=chunk)
            .using_db(connection)
            .values_list("key", "record_id")
        )
        for key, record_id in rows:
            members[key].append(record_id)
    for block in sorted(block for block, size in sizes.items() if size > BLOCK_LIMIT):
        members[block] = [
            record_id
            for (record_id,) in await DuplicateKey.filter(
                agency_id=agency_id, record_type=record_type, key=block
            )
            .using_db(connection)
            .order_by("-id")
            .limit(BLOCK_LIMIT)
            .values_list("record_id")
        ]
    return members


async def _live_records(
    agency_id: UUID,
    probes: Sequence[Probe],
    candidates: list[dict[UUID, set[str]]],
    connection: BaseDBAsyncClient | None,
) -> dict[UUID, Candidate]:
    """The candidates that are live, as the few columns scoring needs (plain tuples: making a
    model instance per candidate cost more than the queries at a million contacts)."""
    ids = {record_id for found in candidates for record_id in found}
    if not ids:
        return {}
    records: dict[UUID, Candidate] = {}
    for record_type in sorted({p.record_type for p in probes}):
        model: Any = Contact if record_type is RecordType.CONTACT else Customer
        columns = (
            ("first_name", "last_name", "company_name")
            if record_type is RecordType.CONTACT
            else ("name",)
        )
        for chunk in _chunks(sorted(ids)):
            query = model.filter(agency_id=agency_id, id__in=chunk, deleted_at__isnull=True)
            for record_id, *values in await query.using_db(connection).values_list("id", *columns):
                if record_type is RecordType.CONTACT:
                    first, last, company = values
                    name = f"{first} {last}".strip()
                else:
                    name, company = values[0], values[0]
                records[record_id] = Candidate(record_type, record_id, name, company)
    return records


def _chunks(values: list[T]) -> Iterator[list[T]]:
    """Lists short enough for one statement's parameters (PostgreSQL takes 32,767)."""
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _by_rows(blocks: list[str], sizes: dict[str, int]) -> Iterator[list[str]]:
    """Blocks in groups whose rows add up to at most `CHUNK` (one statement each)."""
    group: list[str] = []
    rows = 0
    for block in blocks:
        if group and rows + sizes[block] > CHUNK:
            yield group
            group, rows = [], 0
        group.append(block)
        rows += sizes[block]
    if group:
        yield group


def _ranked(
    probe: Probe,
    found: dict[UUID, set[str]],
    records: dict[UUID, Candidate],
    keys: list[str],
) -> list[DuplicateMatch]:
    met = [(records[i], shared) for i, shared in found.items() if i in records]
    # A candidate met by its name block only scores if its name is similar enough: those are
    # compared in one rapidfuzz call (C, with a cutoff), so a crowded block (an import whose
    # rows share one, up to BLOCK_LIMIT stored names each) costs no Python per pair.
    by_name = [i for i, (_, shared) in enumerate(met) if all(k.startswith(NAME) for k in shared)]
    if len(by_name) > 1:
        mine, cutoff, name_of = _comparable(probe)
        similar = {
            by_name[index]
            for _, _, index in process.extract(
                mine,
                [name_of(met[i][0]) for i in by_name],
                scorer=fuzz.token_sort_ratio,
                processor=None,
                limit=None,
                score_cutoff=cutoff - 0.5,  # the scores round the similarity
            )
        }
        named = set(by_name)
        met = [pair for i, pair in enumerate(met) if i in similar or i not in named]
    matches = []
    for record, shared in met:
        match = _scored(probe, record, shared)
        if match is not None and match.score >= THRESHOLD:
            matches.append(match)
    matches.sort(key=lambda m: (-m.score, m.display_name, str(m.record_id)))
    return matches[:MAX_MATCHES]


def _comparable(probe: Probe) -> tuple[str, int, Callable[[Candidate], str]]:
    """The probe's name as the scores compare it, the least similarity that can score, and
    how a candidate's name is read the same way."""
    if probe.record_type is RecordType.CONTACT:
        return (
            folded(f"{probe.first_name} {probe.last_name}"),
            NAME_SIMILARITY,
            lambda record: folded(record.name),
        )
    return (
        _company_text(probe.company),
        COMPANY_SIMILARITY,
        lambda record: _company_text(record.name),
    )


def _scored(probe: Probe, record: Candidate, shared: set[str]) -> DuplicateMatch | None:
    scores: dict[DuplicateReason, int] = {}
    if any(k.startswith(EMAIL) for k in shared):
        scores[DuplicateReason.EMAIL] = 100
    if any(k.startswith(PHONE) for k in shared):
        scores[DuplicateReason.PHONE] = 95
    if any(k.startswith(WEBSITE) for k in shared):
        scores[DuplicateReason.WEBSITE] = 95
    if record.record_type is RecordType.CONTACT:
        scores.update(_person_scores(probe, record))
    else:
        similarity = _company_similarity(probe.company, record.name)
        if similarity >= COMPANY_SIMILARITY:
            scores[DuplicateReason.NAME] = similarity
    if not scores:
        return None
    reasons = [r for r in DuplicateReason if r in scores]
    return DuplicateMatch(
        record.record_type, record.record_id, record.name, max(scores.values()), reasons
    )


def _person_scores(probe: Probe, record: Candidate) -> dict[DuplicateReason, int]:
    """Name evidence, weighed by the company: a similar name at the same company is strong,
    alone or at another company weak (namesakes)."""
    mine = folded(f"{probe.first_name} {probe.last_name}")
    theirs = folded(record.name)
    if not mine or not theirs:
        return {}
    name = round(fuzz.token_sort_ratio(mine, theirs))
    if name < NAME_SIMILARITY:
        return {}
    scores = {DuplicateReason.NAME: name}
    if probe.company and record.company:
        company = _company_similarity(probe.company, record.company)
        if company >= COMPANY_SIMILARITY:
            scores[DuplicateReason.NAME] = min(100, name + 5)
            scores[DuplicateReason.COMPANY] = company
            return scores
    # A name alone, or at another company, is namesake-weak: evidence, never a match by itself.
    scores[DuplicateReason.NAME] = name - NAME_ALONE_PENALTY
    return scores


def _company_text(name: str) -> str:
    return " ".join(company_words(name))


def _company_similarity(mine: str, theirs: str) -> int:
    first, second = _company_text(mine), _company_text(theirs)
    if not first or not second:
        return 0
    return round(fuzz.token_sort_ratio(first, second))


async def duplicates_of(
    actor: Actor, record_type: RecordType, record_id: UUID
) -> list[DuplicateMatch]:
    """Possible duplicates of a record the actor may read, among the records it may read
    (one it may not read is NOT_FOUND; matches it may not read are left out)."""
    model: Any = Contact if record_type is RecordType.CONTACT else Customer
    record = await scoped(model, actor).get_or_none(id=record_id)
    if record is None:
        raise DomainError(
            DuplicateErrorCode.NOT_FOUND, f"No {record_type.value} with id {record_id}.", "id"
        )
    return await visible_duplicates(actor, record)


async def visible_duplicates(actor: Actor, record: Contact | Customer) -> list[DuplicateMatch]:
    """A record's possible duplicates that the actor may read (the warning on a create)."""
    (matches,) = await find_duplicates(record.agency_id, [probe_of(record)])
    if not matches:
        return []
    model: Any = type(record)
    readable = set(
        await scoped(model, actor)
        .filter(id__in=[m.record_id for m in matches])
        .values_list("id", flat=True)
    )
    return [m for m in matches if m.record_id in readable]
