"""Lead scoring: rules, scores with their explanation, reported behaviour."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.lead_scoring import ContactScore as ContactScoreRecord
from domain.lead_scoring import ScoringErrorCode
from domain.lead_scoring import ScoringRules as ScoringRulesRecord
from domain.lead_scoring_rules import (
    DEFAULT_THRESHOLD,
    MAX_RULES,
    SCORED_FIELDS,
    Behaviour,
    CriterionKind,
    Operator,
)
from resolvers import lead_scoring as resolve
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    created_at,
    error_code,
    error_field,
    error_message,
    payload_errors,
)

described_enum(
    Behaviour,
    "ContactBehaviour",
    "Something a contact did that scoring counts.",
    {
        "EMAIL_OPENED": "Opened an email (reported through recordContactBehaviour).",
        "EMAIL_REPLIED": "Wrote to the agency (noted when inbound mail reaches the contact).",
        "MEETING_HELD": "A meeting with the contact was held.",
        "CAMPAIGN_SIGN_UP": "Signed up on a campaign's page (detail: the campaign id).",
        "PAGE_VISIT": "Visited a web page (reported; detail: the URL).",
    },
)
described_enum(
    CriterionKind,
    "ScoringCriterionKind",
    "What a scoring rule looks at.",
    {
        "FIELD": "A contact field (`field`).",
        "CUSTOM_FIELD": "A custom field of contacts (`field`: its key).",
        "TAG": "A tag the contact carries (`value`).",
        "BEHAVIOUR": "Something the contact did (`behaviour`), points per time, decaying.",
    },
)
described_enum(
    Operator,
    "ScoringOperator",
    "How a field's value is compared with the rule's `value`.",
    {
        "EQUALS": "Equal, case aside (for a list field: one of its items is).",
        "CONTAINS": "Contains the value, case aside.",
        "PRESENT": "Not empty (`value` unused).",
        "AT_LEAST": "A number at least the value.",
    },
)
error_code_enum(ScoringErrorCode, "ScoringErrorCode", "lead scoring")


@strawberry.type(description="One scoring rule: points when its criterion holds.")
class ScoringRule:
    name: str = strawberry.field(description="What the explanation calls it.")
    kind: CriterionKind = strawberry.field(description="What it looks at.")
    field: str = strawberry.field(description="The contact field or custom field key; or empty.")
    operator: Operator = strawberry.field(description="How the field is compared.")
    value: str = strawberry.field(
        description="What it is compared with; the tag; for behaviour a page URL prefix or a "
        "campaign id the detail must start with (empty: any)."
    )
    behaviour: Behaviour | None = strawberry.field(description="For BEHAVIOUR rules: which.")
    points: int = strawberry.field(description="-100 to 100; for behaviour, per occurrence.")
    max_points: int | None = strawberry.field(
        description="For behaviour: at most this many points however often; null: no cap."
    )

    @classmethod
    def of(cls, rule: dict[str, Any]) -> ScoringRule:
        return cls(
            name=rule["name"],
            kind=CriterionKind(rule["kind"]),
            field=rule["field"],
            operator=Operator(rule["operator"]),
            value=rule["value"],
            behaviour=Behaviour(rule["behaviour"]) if rule["behaviour"] else None,
            points=rule["points"],
            max_points=rule["max_points"],
        )


@strawberry.type(description="One published version of the agency's lead scoring rules.")
class ScoringRules:
    version: int = strawberry.field(description="1, 2, ...: the newest scores.")
    threshold: int = strawberry.field(description="A contact at this score or more is Hot.")
    half_life_days: int | None = strawberry.field(
        description="Behaviour points halve every this many days; null: they never decay."
    )
    created_by: str = strawberry.field(description="Who published it (`user:<id>`).")
    created_at: datetime = created_at()

    @strawberry.field(description="The rules, in order.")
    def rules(self, root: strawberry.Parent[ScoringRulesRecord]) -> list[ScoringRule]:
        return [ScoringRule.of(rule) for rule in root.rules]


@strawberry.type(description="What one rule gave a score.")
class ScorePart:
    rule: str = strawberry.field(description="The rule's name.")
    points: float = strawberry.field(description="The points it gave (decayed, two decimals).")
    matches: int = strawberry.field(
        description="How many things earned them (1 for a field or tag; for behaviour, how "
        "many times it happened)."
    )


@strawberry.type(description="A contact's lead score, explained rule by rule.")
class ContactScore:
    total: int = strawberry.field(description="The sum of the parts, rounded.")
    threshold: int = strawberry.field(description="The rules' qualification threshold.")
    qualified: bool = strawberry.field(description="total >= threshold.")
    version: int = strawberry.field(description="The scoring rules version that computed it.")
    as_of: datetime = strawberry.field(description="The moment it was computed for.")
    contact_id: relay.GlobalID = strawberry.field(description="The Contact.")
    parts: list[ScorePart] = strawberry.field(description="Every rule that gave points.")

    @classmethod
    def of(cls, found: ContactScoreRecord) -> ContactScore:
        return cls(
            total=found.score.total,
            threshold=found.score.threshold,
            qualified=found.score.qualified,
            version=found.version,
            as_of=found.score.as_of,
            contact_id=relay.GlobalID("Contact", str(found.contact_id)),
            parts=[
                ScorePart(rule=p.name, points=p.points, matches=p.matches)
                for p in found.score.rules
            ],
        )


@strawberry.input(description="One rule: points when its criterion holds.")
class ScoringRuleInput:
    name: str = strawberry.field(description="1 to 100 characters.")
    kind: CriterionKind = strawberry.field(description="What it looks at.")
    points: int = strawberry.field(description="-100 to 100 (else OUT_OF_RANGE).")
    field: str = strawberry.field(
        default="",
        description=f"FIELD: one of {', '.join(SCORED_FIELDS)}; CUSTOM_FIELD: the field's key "
        "(else INVALID).",
    )
    operator: Operator = strawberry.field(default=Operator.EQUALS, description="EQUALS by default.")
    value: str = strawberry.field(
        default="", description="At most 200 characters; TAG rules name the tag here."
    )
    behaviour: Behaviour | None = strawberry.field(
        default=None, description="Required for BEHAVIOUR rules."
    )
    max_points: int | None = strawberry.field(
        default=None, description="Behaviour: a cap, 1 to 1000; null: none."
    )


@strawberry.input(
    description="A new version of the scoring rules. Errors: TOO_MANY, OUT_OF_RANGE, TOO_LONG, "
    "INVALID, REQUIRED, FORBIDDEN."
)
class PublishScoringRulesInput:
    rules: list[ScoringRuleInput] = strawberry.field(
        description=f"At most {MAX_RULES} rules (else TOO_MANY)."
    )
    threshold: int = strawberry.field(
        default=DEFAULT_THRESHOLD,
        description=f"The qualification threshold, 1 to 10000; {DEFAULT_THRESHOLD} by default.",
    )
    half_life_days: int | None = strawberry.field(
        default=None, description="Behaviour points halve every this many days (1 to 3650)."
    )


@strawberry.input(description="Something a contact did that the CRM cannot see by itself.")
class RecordContactBehaviourInput:
    contact_id: relay.GlobalID = strawberry.field(description="The Contact (else NOT_FOUND).")
    behaviour: Behaviour = strawberry.field(description="What it did (PAGE_VISIT, ...).")
    detail: str = strawberry.field(
        default="", description="The page's URL, at most 500 characters; or what else applies."
    )
    occurred_at: datetime | None = strawberry.field(
        default=None,
        description="When; now by default. Within the last year, not in the future (else "
        "OUT_OF_RANGE).",
    )


@strawberry.type(description="A problem with the input; nothing was changed.")
class ScoringError:
    field: str | None = error_field()
    code: ScoringErrorCode = error_code()
    message: str = error_message()


@strawberry.type(description="The version published, or the errors that stopped it.")
class ScoringRulesPayload:
    scoring_rules: ScoringRules | None = strawberry.field(
        description="The version published; null when `errors` is not empty."
    )
    errors: list[ScoringError] = payload_errors()


@strawberry.type(description="The contact's score after the behaviour, or the errors.")
class RecordContactBehaviourPayload:
    score: ContactScore | None = strawberry.field(
        description="The contact's new score; null on errors or when no rules are published."
    )
    errors: list[ScoringError] = payload_errors()


@strawberry.type
class LeadScoringQuery:
    @strawberry.field(description="A version of the lead scoring rules; the current by default.")
    async def scoring_rules(
        self,
        info: Info,
        version: Annotated[
            int | None,
            strawberry.argument(description="Left out: the current one. Null if none."),
        ] = None,
    ) -> ScoringRules | None:
        found: Any = await resolve.scoring_rules(info.context, version)
        return found  # type: ignore[no-any-return]

    @strawberry.field(
        description="A contact's lead score, explained; null when the contact is not visible "
        "or no rules are published."
    )
    async def contact_score(
        self,
        info: Info,
        contact_id: Annotated[relay.GlobalID, strawberry.argument(description="The Contact.")],
        as_of: Annotated[
            datetime | None,
            strawberry.argument(description="Score it at this moment (decay ahead); now."),
        ] = None,
    ) -> ContactScore | None:
        found = await resolve.contact_score(info.context, contact_id, as_of)
        return ContactScore.of(found) if found is not None else None


@strawberry.type
class LeadScoringMutation:
    @strawberry.mutation(description="Publish a new version of the lead scoring rules (admins).")
    async def publish_scoring_rules(
        self, info: Info, input: Annotated[PublishScoringRulesInput, MUTATION_INPUT]
    ) -> ScoringRulesPayload:
        outcome = await resolve.publish_scoring_rules(info.context, input)
        return ScoringRulesPayload(
            scoring_rules=outcome.value,  # type: ignore[arg-type]
            errors=errors_as(ScoringError, outcome.errors),
        )

    @strawberry.mutation(
        description="Report something a contact did (a page visit, an email opened): API keys "
        "with the write scope, or people who may change the contact. The score is evaluated "
        "at once; reaching the threshold makes a New contact Hot."
    )
    async def record_contact_behaviour(
        self, info: Info, input: Annotated[RecordContactBehaviourInput, MUTATION_INPUT]
    ) -> RecordContactBehaviourPayload:
        outcome = await resolve.record_behaviour(info.context, input)
        return RecordContactBehaviourPayload(
            score=ContactScore.of(outcome.value) if outcome.value is not None else None,
            errors=errors_as(ScoringError, outcome.errors),
        )
