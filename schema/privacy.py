"""Privacy requests (GDPR): erasing a contact. The export is a download:
`GET /privacy/contacts/{id}/export` (crm/privacy_http.py)."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.personal_data import PersonalDataErrorCode
from resolvers import privacy as resolve
from schema.payloads import errors_as

strawberry.enum(
    PersonalDataErrorCode,
    name="PersonalDataErrorCode",
    description="Why a privacy request was refused.",
)


@strawberry.type(description="A privacy request's problem; `field` is the input's path.")
class PersonalDataError:
    field: str | None
    code: PersonalDataErrorCode
    message: str


@strawberry.type
class EraseContactPayload:
    erased_contact_id: relay.GlobalID | None = strawberry.field(
        description="The contact's id; the record stays, emptied, so links to it resolve."
    )
    errors: list[PersonalDataError]


@strawberry.input(description="The contact to erase, deleted ones included.")
class EraseContactInput:
    id: relay.GlobalID


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        description="Erase a contact on the person's request (admins): their data is removed "
        "or replaced with [erased] wherever the CRM holds it, files and received mail "
        "included, their flows stop, and webhooks hear contact.erased. Only the fact stays in "
        "the audit log. ALREADY_ERASED if it was; not undoable."
    )
    async def erase_contact(self, info: Info, input: EraseContactInput) -> EraseContactPayload:
        outcome = await resolve.erase_contact(info.context, input.id)
        return EraseContactPayload(
            erased_contact_id=(
                relay.GlobalID("Contact", str(outcome.value)) if outcome.value else None
            ),
            errors=errors_as(PersonalDataError, outcome.errors),
        )
