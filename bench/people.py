"""Synthetic people with known duplicates: what the duplicate benchmark loads and probes, and
what the precision and recall test measures detection on.

Names are built from syllables (about 200 first names, 3,000 family names, accents
included), so name blocks have the uneven sizes real names give. A duplicate is a variant of a
known person of one kind, the ways the same person reaches a CRM twice:

- `email`: the same address typed differently (case, spaces; at Gmail dots and a +tag);
- `phone`: the same number in national form (`020 ...`), no email;
- `typo`: one letter of the family name changed, the company with a legal suffix, no email
  or phone;
- `swapped`: family and given name swapped, same company, no email or phone;
- `accent`: accents dropped or a name in capitals, same company, no email or phone;
- `nickname`: a short form of the given name and a typo in the family name's first letters,
  same company, no email or phone: a name alone carries too little to find these (the
  blocking keys and the similarity threshold miss most), and the test says how many.

A stranger is someone new; one in three shares a known person's full name at another
company (a namesake: a hard negative, which must not be reported).
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace

from db.duplicates import company_words
from domain.duplicates import Probe, RecordType

FIRST_NAMES = [
    a + b
    for a in ("Ma", "Jo", "An", "El", "Lu", "Sa", "Da", "Ro", "Ka", "Be", "Li", "Zo", "Jé", "Bjö")
    for b in ("ria", "hn", "na", "len", "cas", "rah", "vid", "bert", "tie", "n", "sa", "ë", "rn")
]
_FAMILY_HEADS = (
    "Smi", "Mül", "Garc", "Ros", "Kow", "Brau", "Dub", "Nov", "Ols", "Fer", "Lind", "Ber",
    "Hal", "Pet", "Wó", "Eck", "Mar", "Sch", "Vand", "Cost", "Ngu", "Tan", "Oka", "Yil",
    "Alv", "Chr", "Fitz", "Mac", "Rich", "Stef",
)  # fmt: skip
_FAMILY_MIDDLES = ("", "er", "an", "el", "ov", "in", "ar", "os", "it", "eg")
_FAMILY_TAILS = (
    "th", "son", "ez", "ski", "ner", "ois", "ák", "sen", "ira", "berg",
)  # fmt: skip
FAMILY_NAMES = [h + m + t for h in _FAMILY_HEADS for m in _FAMILY_MIDDLES for t in _FAMILY_TAILS]
COMPANY_WORDS = (
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Wonka",
    "Tyrell", "Cyberdyne", "Soylent", "Aperture", "Massive", "Dynamic", "Northwind", "Contoso",
    "Fabrikam", "Litware", "Proseware", "Adatum", "Tailspin", "Woodgrove", "Lucerne", "Fourth",
)  # fmt: skip
COMPANY_SECOND = ("Systems", "Logistics", "Foods", "Energy", "Labs", "Media", "Partners", "")
SUFFIXES = (" Ltd", " GmbH", " Inc.", " LLC", " S.A.")
DOMAINS = ("example.com", "mail.example.org", "gmail.com")
KINDS = ("email", "phone", "typo", "swapped", "accent", "nickname")


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    company: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]


@dataclass(frozen=True)
class Duplicate:
    """A probe and the index of the known person it duplicates (None: a stranger)."""

    person: Person
    of: int | None
    kind: str


def as_probe(person: Person) -> Probe:
    """The person as `find_duplicates` takes a row to check."""
    return Probe(
        RecordType.CONTACT,
        first_name=person.first_name,
        last_name=person.last_name,
        company=person.company,
        emails=person.emails,
        phones=person.phones,
    )


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _company(rng: random.Random) -> str:
    words = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SECOND)}".strip()
    return f"{words}{rng.choice(('', '', *SUFFIXES))}"


def person(rng: random.Random, n: int) -> Person:
    """The n-th known person: a unique address and number (n is in both)."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(FAMILY_NAMES)
    domain = DOMAINS[n % len(DOMAINS)]
    local = f"{_plain(first)}.{_plain(last)}.{n}".lower()
    return Person(first, last, _company(rng), (f"{local}@{domain}",), (f"+4420{n:08d}",))


def people(count: int, seed: int = 15) -> Iterator[Person]:
    rng = random.Random(seed)
    for n in range(count):
        yield person(rng, n)


def _typo(rng: random.Random, word: str) -> str:
    """One letter after the first changed (typos rarely hit the first letter)."""
    at = rng.randrange(1, len(word))
    letter = rng.choice([c for c in "aeiourstnl" if c != word[at].lower()])
    return word[:at] + letter + word[at + 1 :]


def variant(rng: random.Random, known: Person, kind: str) -> Person:
    no_contact = replace(known, emails=(), phones=())
    if kind == "email":
        address = known.emails[0]
        local, domain = address.split("@")
        if domain == "gmail.com":
            address = f"{local.replace('.', '')}+crm@{domain}"
        return replace(
            no_contact, first_name=known.first_name[:1], emails=(f" {address.upper()} ",)
        )
    if kind == "phone":
        national = "0" + known.phones[0].removeprefix("+44")
        spaced = f"{national[:3]} {national[3:7]} {national[7:]}"
        return replace(no_contact, company="", phones=(spaced,))
    if kind == "typo":
        base = known.company.removesuffix(
            next((s for s in SUFFIXES if known.company.endswith(s)), "")
        )
        return replace(no_contact, last_name=_typo(rng, known.last_name), company=f"{base} Ltd")
    if kind == "nickname":
        last = known.last_name
        at = rng.randrange(1, min(4, len(last)))
        letter = rng.choice([c for c in "aeiou" if c != last[at].lower()])
        return replace(
            no_contact,
            first_name=known.first_name[:3],
            last_name=last[:at] + letter + last[at + 1 :],
        )
    if kind == "swapped":
        return replace(no_contact, first_name=known.last_name, last_name=known.first_name)
    return replace(
        no_contact, first_name=_plain(known.first_name), last_name=_plain(known.last_name).upper()
    )


def probes(known: list[Person], duplicates: int, strangers: int, seed: int = 16) -> list[Duplicate]:
    """`duplicates` variants of known people (kinds in turn) and `strangers` new people."""
    rng = random.Random(seed)
    found = []
    for n in range(duplicates):
        of = rng.randrange(len(known))
        kind = KINDS[n % len(KINDS)]
        found.append(Duplicate(variant(rng, known[of], kind), of, kind))
    for n in range(strangers):
        newcomer = person(rng, 10_000_000 + n)
        if n % 3 == 0:
            twin = known[rng.randrange(len(known))]
            twin_words = company_words(twin.company)
            other = next(
                c for c in iter(lambda: _company(rng), None) if company_words(c)[0] != twin_words[0]
            )
            newcomer = replace(
                newcomer, first_name=twin.first_name, last_name=twin.last_name, company=other
            )
        found.append(Duplicate(newcomer, None, "stranger"))
    return found
