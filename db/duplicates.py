"""Duplicate-detection keys of contacts and customers, and the merges that joined records.

A record's emails, phones, website and name are reduced to normalised keys (one row each),
so a possible duplicate is found by an indexed equality on `(agency_id, record_type, key)`,
never by scanning the records. The keys are derived here, beside the rows, so every write of
a contact or a customer (API, import, conversion, flows) keeps them in step: the models call
`write_duplicate_keys` from their `save`.

Normalisation (documented in docs/duplicates.md):
- email: trimmed and lower-cased; at gmail.com and googlemail.com the dots and a `+tag` of
  the local part are dropped (Gmail delivers `a.d.a+crm@gmail.com` to `ada@gmail.com`), and
  googlemail.com reads as gmail.com. Other providers' dots are left alone: they may matter.
- phone: E.164 (contacts store it so already, imported rows are parsed with the agency's
  country as the default region).
- website: the host without `www.`.
- name: blocking keys, not identities: a person gives `<first 4 letters of one name>|<initial
  of the other>` both ways round (so `Smith John` meets `John Smith`), a company the first
  5 letters of its name without legal suffixes (Ltd, GmbH, Inc...). Names meeting in a block
  are then compared with rapidfuzz by the domain (`domain.duplicates`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import urlsplit
from uuid import UUID

import phonenumbers
from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from db.search import Searchable

EMAIL = "e:"
PHONE = "p:"
WEBSITE = "w:"
NAME = "n:"
KEY_LENGTH = 120

_GMAIL = frozenset({"gmail.com", "googlemail.com"})
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_NOT_LETTER = re.compile(r"[^a-z0-9 ]+")
_LEGAL_SUFFIXES = frozenset(
    {
        "ltd",
        "limited",
        "llc",
        "llp",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "gmbh",
        "ag",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "plc",
        "oy",
        "ab",
        "as",
        "kg",
        "pty",
        "the",
    }
)


class DuplicateKey(Model):
    """One normalised key of one contact or customer (kind prefix e, p, w or n, then the key)."""

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    record_type = fields.CharField(max_length=20)
    record_id = fields.UUIDField(db_index=True)
    key = fields.CharField(max_length=KEY_LENGTH)

    class Meta:
        table = "duplicate_key"
        indexes = (("agency_id", "record_type", "key"),)


class RecordMerge(Model):
    """Two to nine records joined into one survivor, with what is needed to undo it.

    moved lists the related rows that changed record, as groups of table, column, the
    record they came from and their primary keys. survivor_before holds the survivor's
    columns the merge changed and survivor_after what it set them to.
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    record_type = fields.CharField(max_length=20)
    survivor_id = fields.UUIDField(db_index=True)
    merged_ids: fields.Field[list[str]] = fields.JSONField(default=list)
    survivor_before: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    survivor_after: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    moved: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list)
    actor_id = fields.CharField(max_length=100, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    undo_until = fields.DatetimeField()
    undone_at = fields.DatetimeField(null=True)

    class Meta:
        table = "record_merge"


@functools.lru_cache(maxsize=65_536)
def folded(text: str) -> str:
    """Lower-case ASCII letters, digits and single spaces: accents and punctuation dropped.
    Cached: a batch compares the same stored names with many rows."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(_NOT_LETTER.sub(" ", ascii_text).split())


def email_key(address: str) -> str:
    """The address as a mailbox: trimmed, lower-cased, Gmail's dots and +tags dropped."""
    address = address.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return ""
    if domain in _GMAIL:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}" if local else ""


def phone_key(phone: str, region: str = "") -> str:
    """E.164, or empty when it is not a possible number (national forms need the region).

    A phone already in E.164 (as contacts store them) is taken as it is: parsing costs a
    third of a millisecond, which a million-row import or load would feel."""
    if _E164.match(phone):
        return phone
    try:
        number = phonenumbers.parse(phone, region.upper() or None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def website_key(website: str) -> str:
    """The site's host without `www.` (`https://www.acme.com/about` -> `acme.com`)."""
    text = website.strip().lower()
    if not text:
        return ""
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    return host.removeprefix("www.")


def company_words(name: str) -> list[str]:
    """A company name's words without legal suffixes (`ACME Ltd.` -> `acme`)."""
    words = folded(name).split()
    kept = [w for w in words if w not in _LEGAL_SUFFIXES]
    return kept or words


def person_blocks(first_name: str, last_name: str) -> list[str]:
    """Blocking keys of a person's name: each name's first four letters with the other's
    initial, so a typo in one name still meets the other's block, and order does not matter."""
    first = folded(first_name).replace(" ", "")
    last = folded(last_name).replace(" ", "")
    if not first and not last:
        return []
    if not first or not last:
        return [f"{NAME}{(first or last)[:4]}|"]
    return sorted({f"{NAME}{first[:4]}|{last[0]}", f"{NAME}{last[:4]}|{first[0]}"})


def company_block(name: str) -> list[str]:
    words = "".join(company_words(name))
    return [f"{NAME}{words[:5]}"] if words else []


def contact_keys(
    first_name: str,
    last_name: str,
    emails: Iterable[str],
    phones: Iterable[str],
    region: str = "",
) -> list[str]:
    keys = [EMAIL + k for k in map(email_key, emails) if k]
    keys += [PHONE + k for k in (phone_key(p, region) for p in phones) if k]
    keys += person_blocks(first_name, last_name)
    return sorted({k[:KEY_LENGTH] for k in keys})


def customer_keys(name: str, website: str, billing_email: str) -> list[str]:
    keys = company_block(name)
    if email := email_key(billing_email):
        keys.append(EMAIL + email)
    if site := website_key(website):
        keys.append(WEBSITE + site)
    return sorted({k[:KEY_LENGTH] for k in keys})


def duplicate_key_rows(records: Iterable[DuplicateKeyed]) -> list[DuplicateKey]:
    """The key rows of records written by `bulk_create` (which skips `save`): an import or a
    bulk load inserts these beside them."""
    return [
        DuplicateKey(
            agency_id=record.agency_id,
            record_type=record.RECORD_TYPE,
            record_id=record.id,
            key=key,
        )
        for record in records
        for key in record.duplicate_keys()
    ]


async def write_duplicate_keys(
    agency_id: UUID,
    record_type: str,
    record_id: UUID,
    keys: list[str],
    connection: BaseDBAsyncClient | None,
) -> None:
    """Replace a record's keys (a save rewrites them: a few small indexed statements)."""
    await DuplicateKey.filter(record_id=record_id).using_db(connection).delete()
    await DuplicateKey.bulk_create(
        [
            DuplicateKey(agency_id=agency_id, record_type=record_type, record_id=record_id, key=k)
            for k in keys
        ],
        using_db=connection,
    )


class DuplicateKeyed(Searchable):
    """A record whose duplicate keys are rewritten whenever a field they come from may have
    changed (a status-only save leaves them alone)."""

    RECORD_TYPE: ClassVar[str] = ""
    DUPLICATE_KEY_FIELDS: ClassVar[tuple[str, ...]] = ()

    agency_id: UUID
    id: UUID

    class Meta:
        abstract = True

    def duplicate_keys(self) -> list[str]:
        raise NotImplementedError

    async def save(
        self,
        using_db: BaseDBAsyncClient | None = None,
        update_fields: Iterable[str] | None = None,
        force_create: bool = False,
        force_update: bool = False,
    ) -> None:
        named = None if update_fields is None else list(update_fields)
        await super().save(using_db, named, force_create, force_update)
        if named is None or not set(self.DUPLICATE_KEY_FIELDS).isdisjoint(named):
            keys = self.duplicate_keys()
            await write_duplicate_keys(self.agency_id, self.RECORD_TYPE, self.id, keys, using_db)
