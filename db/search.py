"""A lower-cased search column kept beside a record's names, emails, phones and other texts.

Text search must find `ana@` or `020 7946 0958` on SQLite and PostgreSQL alike, and JSON
columns cannot be searched portably, so each searchable record (contacts, customers, leads,
deals, calling tasks) keeps one plain text column that its `save` rewrites from
`SEARCH_FIELDS`, and every list's `search` filter is `Searchable.matching`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import phonenumbers
from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.models import Model

SEARCH_TEXT_LENGTH = 4_000
_PHONE_TERM = re.compile(r"^\+?[\d\s().-]{5,}$")
_NOT_DIGIT = re.compile(r"\D")


def _phone_forms(phone: str) -> Iterator[str]:
    """Digits of the E.164 form and of the national number, so both `+44 20...` and `020...`
    match."""
    yield _NOT_DIGIT.sub("", phone)
    try:
        yield str(phonenumbers.parse(phone).national_number)
    except phonenumbers.NumberParseException:
        return


def search_text(texts: Iterable[str], phones: Iterable[str] = ()) -> str:
    """The column's value: texts lower-cased, phones as digits, one per line."""
    parts = [text.strip().lower() for text in texts if text and text.strip()]
    for phone in phones:
        parts.extend(_phone_forms(phone))
    return "\n".join(dict.fromkeys(parts))[:SEARCH_TEXT_LENGTH]


def search_term(term: str) -> str:
    """What to look for in the column: a phone-like term as digits without a trunk 0."""
    if _PHONE_TERM.match(term):
        digits = _NOT_DIGIT.sub("", term).lstrip("0")
        if digits:
            return digits
    return term.strip().lower()


class Searchable(Model):
    """A model with a search column. Subclasses name their text and phone fields."""

    SEARCH_FIELDS: ClassVar[tuple[str, ...]] = ()
    SEARCH_PHONE_FIELDS: ClassVar[tuple[str, ...]] = ()

    search_text = fields.CharField(max_length=SEARCH_TEXT_LENGTH, default="", db_default="")

    class Meta:
        abstract = True

    @classmethod
    def matching(cls, term: str) -> Q:
        """Records whose search column holds the term; on records with phones, a phone-like
        term also matches as digits (so `020 7946 0958` finds `+442079460958`)."""
        text = term.strip().lower()
        found = Q(search_text__contains=text)
        digits = search_term(term)
        if cls.SEARCH_PHONE_FIELDS and digits != text:
            found |= Q(search_text__contains=digits)
        return found

    def refresh_search_text(self) -> None:
        """Recompute the column from the record's fields (bulk inserts, which skip `save`)."""
        self.search_text = search_text(*self._search_values())

    def _search_values(self) -> tuple[list[str], list[str]]:
        texts: list[str] = []
        for name in self.SEARCH_FIELDS:
            value: Any = getattr(self, name)
            texts.extend(value if isinstance(value, list) else [value])
        phones: list[str] = []
        for name in self.SEARCH_PHONE_FIELDS:
            phones.extend(getattr(self, name))
        return texts, phones

    async def save(
        self,
        using_db: BaseDBAsyncClient | None = None,
        update_fields: Iterable[str] | None = None,
        force_create: bool = False,
        force_update: bool = False,
    ) -> None:
        """Rewrite the search column whenever a field it is made of may have changed."""
        named = None if update_fields is None else list(update_fields)
        if named is None:
            self.refresh_search_text()
        elif not {*self.SEARCH_FIELDS, *self.SEARCH_PHONE_FIELDS}.isdisjoint(named):
            named.append("search_text")
            self.refresh_search_text()
        await super().save(using_db, named, force_create, force_update)
