"""Privacy requests (GDPR): erasing a contact. The export is a download:
`GET /privacy/contacts/{id}/export` (crm/privacy_http.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.personal_data import PersonalDataErrorCode
from resolvers import privacy as resolve
from schema.enum_values import error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    error_code,
    error_field,
    error_message,
    payload_errors,
)

error_code_enum(PersonalDataErrorCode, "PersonalDataErrorCode", "a person's data")


@strawberry.type(description="Why a privacy request changed nothing.")
class PersonalDataError:
    field: str | None = error_field()
    code: PersonalDataErrorCode = error_code()
    message: str = error_message()


@strawberry.type(description="The outcome of `eraseContact`.")
class EraseContactPayload:
    erased_contact_id: relay.GlobalID | None = strawberry.field(
        description="The erased contact's id; the record stays, emptied, so links to it "
        "resolve. Null when `errors` is not empty."
    )
    errors: list[PersonalDataError] = payload_errors()


@strawberry.input(description="Which contact to erase.")
class EraseContactInput:
    id: relay.GlobalID = strawberry.field(
        description="The contact's global id; deleted contacts can be erased too."
    )


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        description="Erase a contact on the person's request (admins): their data is removed "
        "or replaced with [erased] wherever the CRM holds it, files and received mail "
        "included, their flows stop, and webhooks hear contact.erased. Only the fact stays in "
        "the audit log. ALREADY_ERASED if it was; not undoable. The export that comes before "
        "is a download: GET /privacy/contacts/{id}/export."
    )
    async def erase_contact(
        self, info: Info, input: Annotated[EraseContactInput, MUTATION_INPUT]
    ) -> EraseContactPayload:
        outcome = await resolve.erase_contact(info.context, input.id)
        return EraseContactPayload(
            erased_contact_id=(
                relay.GlobalID("Contact", str(outcome.value)) if outcome.value else None
            ),
            errors=errors_as(PersonalDataError, outcome.errors),
        )
