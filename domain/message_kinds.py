"""What a message is and whom it goes to: shared by templates, consent and flow definitions.

Pure (no I/O, no db import), so flow definitions, which workflows import, can use it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints

# Records a message is written for and sent to.
RECIPIENT_TYPES = ("contact", "customer")

TemplateKey = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
]


class TemplateKind(StrEnum):
    """What a message is, which decides who may receive it (`domain.message_preferences`)."""

    TRANSACTIONAL = "transactional"  # service messages the person needs
    SALES = "sales"  # one-to-one
    MARKETING = "marketing"  # promotions, newsletters, campaigns
    GREETINGS = "greetings"


# What a recipient may turn off through an unsubscribe link: service messages stay.
UNSUBSCRIBABLE = (TemplateKind.SALES, TemplateKind.MARKETING, TemplateKind.GREETINGS)
