"""Demo data for the embedded dev stack: an agency with one user per role and a few contacts,
so a frontend developer can try every role at once. Never run by production settings."""

from __future__ import annotations

from dataclasses import dataclass

from domain import agencies, contacts, users
from domain.actors import Actor
from domain.roles import Role

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo-password"  # printed on the console; the dev stack is local only


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: Role
    email: str
    password: str


def demo_email(role: Role) -> str:
    return f"{role.value.replace('_', '.')}@demo.example.com"


async def seed_demo_agency() -> tuple[list[DemoLogin], bool]:
    """Create the demo agency on first start; later starts change nothing.

    Returns the logins and whether the agency was created now.
    """
    agency, _, created = await agencies.bootstrap_agency(
        "Demo Agency", DEMO_SLUG, demo_email(Role.ADMIN), "Demo Admin", DEMO_PASSWORD
    )
    logins = [DemoLogin(role, demo_email(role), DEMO_PASSWORD) for role in Role]
    if not created:
        return logins, False
    admin = Actor.system(agency.id, "demo")
    await agencies.update_agency(
        admin,
        {
            "address": {
                "street": "1 Example Street",
                "city": "London",
                "postal_code": "EC1A 1AA",
                "country": "GB",
            },
            "website": "https://demo.example.com",
            "time_zone": "Europe/London",
            "locale": "en-GB",
        },
    )
    sales = await agencies.create_org_unit(admin, "Sales", None)
    people = {}
    for role in Role:
        if role is Role.ADMIN:
            continue
        people[role] = await users.create_user(
            admin,
            {
                "email": demo_email(role),
                "name": f"Demo {role.value.replace('_', ' ').title()}",
                "password": DEMO_PASSWORD,
                "roles": [role],
                "org_unit_id": sales.id if role in (Role.SALES_HEAD, Role.SALES_PERSON) else None,
            },
        )
    seller = people[Role.SALES_PERSON].id
    for first, last, company in (
        ("Ada", "Lovelace", "Analytical Engines"),
        ("Grace", "Hopper", "Navy Computing"),
        ("Alan", "Turing", "Bletchley Park"),
    ):
        await contacts.create_contact(
            admin,
            {
                "first_name": first,
                "last_name": last,
                "company_name": company,
                "emails": [f"{first.lower()}@example.com"],
                "owner_id": seller,
            },
        )
    return logins, True
