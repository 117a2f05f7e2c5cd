"""Contact fields read from the text lines of a visiting card (pure: no I/O, no OCR).

Email, phone and website are found by their form (a regex; phones through `phonenumbers`,
so they come out in E.164 as contacts store them). Name, title, company and address have no
form of their own, so they are told apart by what is left once those are taken: a company
carries a legal suffix (GmbH, Ltd, Inc) or the email's domain, a title a job word (Manager,
Head, Engineer), an address a street word or a postal code, and the name is the line of two
to four capitalised words in the largest type. Each field carries a confidence: the OCR's
for the line, lowered for a field found by a guess rather than by its form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

FIELDS = ("name", "title", "company", "email", "phone", "website", "address")
# How much a field found by a heuristic is trusted, against one found by its form.
GUESSED = 0.7
BY_FORM = 1.0

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}")
_WEBSITE = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:[a-z0-9-]+\.)+[a-z]{2,24}(?:/\S*)?$", re.IGNORECASE
)
# What cards put before a value ("T: +44 ...", "Email: ...", "Web www...").
_LABEL = re.compile(
    r"^\s*(?:tel(?:ephone)?|phone|ph|mob(?:ile)?|cell|direct|office|[tmpe]|e-?mail|mail|"
    r"web(?:site)?|w|www:|fax|f)\s*[.:|]\s*",
    re.IGNORECASE,
)
_FAX = re.compile(r"^\s*(?:fax|f)\s*[.:|]", re.IGNORECASE)
_COMPANY_SUFFIXES = {
    "gmbh", "ag", "kg", "ltd", "ltd.", "limited", "llc", "llp", "inc", "inc.", "corp", "corp.",
    "corporation", "co.", "company", "plc", "sa", "s.a.", "sarl", "srl", "s.r.l.", "bv", "b.v.",
    "nv", "oy", "ab", "as", "a/s", "spa", "s.p.a.", "pty", "group", "holding", "holdings",
    "partners", "associates", "solutions", "systems", "technologies", "labs", "studio",
    "consulting", "gbr", "ug", "se", "kk",
}  # fmt: skip
_TITLE_WORDS = {
    "ceo", "cto", "cfo", "coo", "cio", "cmo", "vp", "svp", "evp", "chief", "president",
    "vice", "founder", "co-founder", "cofounder", "owner", "partner", "director", "head",
    "manager", "lead", "leader", "officer", "engineer", "developer", "designer", "architect",
    "consultant", "advisor", "adviser", "analyst", "specialist", "assistant", "associate",
    "executive", "representative", "coordinator", "administrator", "accountant", "attorney",
    "lawyer", "counsel", "agent", "broker", "sales", "marketing", "account", "senior",
    "junior", "principal", "intern", "secretary", "editor", "producer", "scientist",
    "researcher", "professor", "doctor", "nurse", "therapist", "technician", "supervisor",
    "procurement", "purchasing", "buyer", "recruiter", "chair", "chairman", "chairwoman",
    "geschäftsführer", "leiter", "leiterin", "vertrieb", "einkauf", "berater", "beraterin",
}  # fmt: skip
_STREET_WORDS = re.compile(
    r"\b(?:street|st\.|road|rd\.?|avenue|ave\.?|boulevard|blvd\.?|lane|ln\.|drive|dr\.|way|"
    r"place|pl\.|square|court|ct\.|suite|ste\.?|floor|building|plaza|highway|hwy|"
    r"straße|strasse|str\.|platz|weg|allee|gasse|ring|damm|ufer|rue|via|calle|po box|"
    r"p\.o\. box)\b|[a-zäöüß](?:straße|strasse|str\.|platz|weg|allee|gasse|damm)\b",
    re.IGNORECASE,
)
# A postal code in the shapes the common card countries use: 5-digit (DE, FR, US ZIP+4),
# 4-digit (AT, CH, NL), UK postcodes, Canadian ones.
_POSTAL = re.compile(
    r"(?<!\w)(?:\d{5}(?:-\d{4})?(?!\d)|\d{4}(?:\s?[A-Z]{2}\b)?(?!\d)|"
    r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b|[A-Z]\d[A-Z]\s?\d[A-Z]\d\b)"
)
# Where a line the OCR squashed ("500MarketStreet", "75004Paris") had its spaces.
_SQUASHED_SPACE = re.compile(r"(?<=\d)(?=[A-Z][a-z])|(?<=[a-z])(?=[A-Z])|(?<=[a-z])(?=\d)")
_NAME_WORD = re.compile(
    r"^(?:[A-ZÄÖÜÉÈ][a-zäöüßéèáíóúñç'\u2019-]+|[A-Z]\.|[A-Z][a-z]?[A-Z][a-z]+)$"
)
_NAME_PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "la", "le", "du", "dos", "bin"}


@dataclass(frozen=True, slots=True)
class CardLine:
    """One line the OCR read: its text, its confidence (0 to 1), and its height in pixels
    (the type size: a name is usually the largest)."""

    text: str
    confidence: float
    height: float = 0.0


@dataclass(frozen=True, slots=True)
class CardField:
    """A value read from the card and how sure the reading is (0 to 1)."""

    value: str
    confidence: float


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """An address line split into a contact's address parts (country left to the user)."""

    street: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""


def _unlabelled(text: str) -> str:
    return _LABEL.sub("", text, count=1).strip()


def _field(value: str, line: CardLine, trust: float) -> CardField:
    return CardField(value.strip(), round(max(0.0, min(1.0, line.confidence * trust)), 3))


def _email(text: str) -> str | None:
    found = _EMAIL.search(text.replace(" @", "@").replace("@ ", "@"))
    return found.group(0).lower() if found else None


def _website(text: str) -> str | None:
    for token in _unlabelled(text).split():
        token = token.strip(",;()<>").rstrip(".")
        if "@" not in token and _WEBSITE.match(token) and not token.replace(".", "").isdigit():
            return token.lower()
    return None


def _phone(text: str, region: str) -> str | None:
    if _FAX.match(text) or "@" in text:
        return None
    cleaned = _unlabelled(text).replace("(0)", "")
    matcher = phonenumbers.PhoneNumberMatcher(cleaned, region or None, leniency=1)
    for match in matcher:
        if phonenumbers.is_valid_number(match.number):
            return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    return None


def _words(text: str) -> list[str]:
    return [w.strip(",.&()").lower() for w in text.split()]


def _is_company(text: str, email: str) -> bool:
    """A legal suffix, or the email's domain (unless the line is the person's own name, as
    in jane@janedoe.com)."""
    if any(w in _COMPANY_SUFFIXES for w in _words(text)):
        return True
    if "@" not in email:
        return False
    local, domain = email.split("@", 1)
    squashed = re.sub(r"[^a-z0-9]", "", text.lower())
    domain_name = re.sub(r"[^a-z0-9]", "", domain.rsplit(".", 1)[0].split(".")[-1])
    if len(domain_name) < 3 or not (domain_name in squashed or squashed in domain_name):
        return False
    return not any(len(w) >= 3 and w in local for w in _words(text))


def _is_title(text: str) -> bool:
    lowered = text.lower()
    if any(w in _TITLE_WORDS for w in _words(text)):
        return True
    # OCR sometimes drops the spaces between words ("HeadofProcurement").
    return " " not in text.strip() and any(
        len(word) >= 4 and word in lowered for word in _TITLE_WORDS
    )


def _respaced(text: str) -> str:
    """A line without a single space, with spaces put back where the case or digits change
    (an address line the OCR squashed); any other line as it is."""
    return text if " " in text.strip() else _SQUASHED_SPACE.sub(" ", text.strip())


def _is_address(text: str) -> bool:
    if _STREET_WORDS.search(text):
        return True
    has_digit = any(c.isdigit() for c in text)
    return has_digit and bool(_POSTAL.search(text)) and any(c.isalpha() for c in text)


def _is_name(text: str) -> bool:
    words = text.split()
    if not 2 <= len(words) <= 4 or any(c.isdigit() for c in text):
        return False
    return all(_NAME_WORD.match(w) or w.lower() in _NAME_PARTICLES for w in words)


def extract_fields(lines: list[CardLine], region: str = "") -> dict[str, CardField]:
    """The fields found on a card's lines (in reading order), by name (`FIELDS`); a field
    not found is left out. `region` (ISO country code) reads phone numbers written without
    their country code."""
    found: dict[str, CardField] = {}
    rest: list[CardLine] = []
    address: list[CardLine] = []
    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        email = _email(text)
        if email:
            found.setdefault("email", _field(email, line, BY_FORM))
            continue
        phone = _phone(text, region)
        if phone:
            found.setdefault("phone", _field(phone, line, BY_FORM))
            continue
        if _FAX.match(text):
            continue
        website = _website(text)
        if website and len(website) >= len(_unlabelled(text)) - 1:
            found.setdefault("website", _field(website, line, BY_FORM))
            continue
        spaced = _respaced(text)
        if _is_address(spaced) and not _is_name(spaced):
            address.append(CardLine(spaced, line.confidence, line.height))
            continue
        rest.append(line)
    if address:
        joined = ", ".join(line.text.strip().rstrip(",") for line in address)
        lowest = min(address, key=lambda line: line.confidence)
        found["address"] = _field(joined, lowest, GUESSED)
    _people_and_company(rest, found["email"].value if "email" in found else "", found)
    return found


def _people_and_company(rest: list[CardLine], email: str, found: dict[str, CardField]) -> None:
    """Name, title and company among the lines no form claimed."""
    unclaimed: list[CardLine] = []
    for line in rest:
        text = line.text.strip()
        if "company" not in found and _is_company(text, email) and not _is_title(text):
            found["company"] = _field(text, line, GUESSED)
        elif "title" not in found and _is_title(text):
            found["title"] = _field(text, line, GUESSED)
        else:
            unclaimed.append(line)
    names = [line for line in unclaimed if _is_name(line.text.strip())]
    if names:
        # The largest type wins; among equals the first line read.
        name = max(names, key=lambda line: (line.height, -names.index(line)))
        found["name"] = _field(name.text, name, GUESSED)
        unclaimed.remove(name)
    if "company" not in found and unclaimed:
        company = max(unclaimed, key=lambda line: (line.height, -unclaimed.index(line)))
        found["company"] = _field(company.text, company, GUESSED * GUESSED)


def split_name(name: str) -> tuple[str, str]:
    """First and last name of a full name: the last word (with a particle before it, as in
    "van Dijk") is the last name."""
    words = name.split()
    if len(words) < 2:
        return name.strip(), ""
    cut = len(words) - 1
    while cut > 1 and words[cut - 1].lower() in _NAME_PARTICLES:
        cut -= 1
    return " ".join(words[:cut]), " ".join(words[cut:])


def split_address(address: str) -> PostalAddress:
    """Street, city, region and postal code of an address read from a card ("Friedrich-
    strasse 123, 10117 Berlin", "500 Market Street, San Francisco, CA 94105")."""
    parts = [p.strip() for p in re.split(r"[,\n]", address) if p.strip()]
    if not parts:
        return PostalAddress()
    street, places = parts[0], parts[1:]
    if not places:
        return PostalAddress(street=street)
    postal_code = region = city = ""
    leftover: list[str] = []
    for place in places:
        code = _POSTAL.search(place)
        if code and not postal_code:
            postal_code = code.group(0)
            remainder = (place[: code.start()] + " " + place[code.end() :]).strip()
            if re.fullmatch(r"[A-Z]{2}", remainder) and leftover:
                region = remainder  # "CA 94105": the state
            elif remainder:
                city = remainder  # "10117 Berlin", "London EC4Y 1AA"
        else:
            leftover.append(place)
    if not city and leftover:
        city = leftover.pop(0)
    if leftover and not region:
        region = leftover[0]
    return PostalAddress(street=street, city=city, region=region, postal_code=postal_code)
