"""Other callers for e2e tests: a colleague with a given role, an admin of another agency."""

from __future__ import annotations

import uuid
from typing import Any

from db.users import User
from domain import agencies, users
from domain.actors import Actor
from domain.roles import Role
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Api

PASSWORD = "long enough password"


async def acme_system() -> Actor:
    """Acme's system actor (the `api` fixture bootstrapped Acme; bootstrapping is idempotent)."""
    agency, _, _ = await agencies.bootstrap_agency(
        "Acme", "acme", ADMIN_EMAIL, "Ada Admin", ADMIN_PASSWORD
    )
    return Actor.system(agency.id, "test")


async def colleague(api: Api, role: Role) -> tuple[Api, uuid.UUID]:
    """A new user of Acme with `role`, signed in, and their id."""
    email = f"{role.value}.{uuid.uuid4().hex[:6]}@acme.example.com"
    user = await users.create_user(
        await acme_system(),
        {"email": email, "name": role.value, "password": PASSWORD, "roles": [role]},
    )
    return await api.sign_in(email, PASSWORD), user.id


async def other_agency_admin(api: Api) -> Api:
    """The admin of a second agency, signed in."""
    await agencies.bootstrap_agency("Bolt", "bolt", "admin@bolt.example.com", "Bo", PASSWORD)
    return await api.sign_in("admin@bolt.example.com", PASSWORD)


async def member(email: str, role: Role, **fields: Any) -> User:
    """A new user of Acme (not signed in) with `role` and more fields (`org_unit_id`, ...)."""
    data = {"email": email, "name": email.split("@")[0], "password": PASSWORD, "roles": [role]}
    return await users.create_user(await acme_system(), {**data, **fields})
