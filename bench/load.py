"""Bulk data for the benchmark: one agency, its admin, owners, customers and contacts.

Rows are built in batches and written with `bulk_create` (one executemany per batch), so
100,000 contacts load in well under a minute on either database.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from tortoise import Tortoise

from db.contacts import Contact
from db.customers import Customer, CustomerContact
from db.tags import RecordTag, Tag
from db.users import User
from domain.agencies import bootstrap_agency
from domain.roles import Role

ADMIN_EMAIL = "admin@bench.example.com"
ADMIN_PASSWORD = "bench-password-not-secret"
BATCH = 5_000
OWNERS = 20
CONTACTS_PER_CUSTOMER = 10
TAG_NAMES = ["vip", "newsletter", "partner", "trade-show", "referral", "inbound", "cold-call"]
CONTACT_STATUSES = ["new", "hot", "cold", "not_interested"]
# Every n-th contact is soft-deleted: the list and the hand SQL must both leave it out.
DELETED_EVERY = 97


@dataclass(frozen=True)
class LoadedData:
    agency_id: UUID
    contacts: int
    visible: int  # not soft-deleted
    customers: int
    owners: int


def _batches(count: int) -> Iterator[range]:
    for start in range(0, count, BATCH):
        yield range(start, min(start + BATCH, count))


def contact_tags(rng: random.Random) -> list[str]:
    """Zero to three tag names per contact."""
    return sorted(rng.sample(TAG_NAMES, rng.randint(0, 3)))


async def load_tags(agency_id: UUID, tags: Sequence[tuple[UUID, list[str]]]) -> None:
    """The agency's tag catalogue and the index of which contact carries which tag, as the
    tags service writes them (the names themselves are in each contact's `tags` column)."""
    catalogue = {
        name: Tag(id=uuid4(), agency_id=agency_id, name=name, key=name) for name in TAG_NAMES
    }
    await Tag.bulk_create(list(catalogue.values()), batch_size=BATCH)
    index = [
        RecordTag(
            id=uuid4(),
            agency_id=agency_id,
            tag_id=catalogue[name].id,
            record_type="contact",
            record_id=contact_id,
        )
        for contact_id, names in tags
        for name in names
    ]
    await RecordTag.bulk_create(index, batch_size=BATCH)


async def add_owners(admin: User, domain: str, count: int = OWNERS) -> list[UUID]:
    """Sales people of the admin's agency (`owner<n>@<domain>`, the admin's password)."""
    owners = [
        User(
            id=uuid4(),
            agency_id=admin.agency_id,
            email=f"owner{n}@{domain}",
            name=f"Owner {n}",
            password_hash=admin.password_hash,
            roles=[Role.SALES_PERSON.value],
        )
        for n in range(count)
    ]
    await User.bulk_create(owners, batch_size=BATCH)
    return [owner.id for owner in owners]


async def load(contacts: int, seed: int = 5) -> LoadedData:
    """Fill the (migrated, empty) database Tortoise is open on; returns what was written."""
    rng = random.Random(seed)
    agency, admin, _ = await bootstrap_agency(
        "Bench Agency", "bench", ADMIN_EMAIL, "Bench Admin", ADMIN_PASSWORD
    )
    owner_ids = [admin.id, *await add_owners(admin, "bench.example.com")]

    # Oldest first, one second apart: the list's order (newest first) is unambiguous.
    start = datetime.now(UTC) - timedelta(seconds=contacts + 86_400)
    customer_count = max(1, contacts // CONTACTS_PER_CUSTOMER)
    customer_ids = [uuid4() for _ in range(customer_count)]
    for batch in _batches(customer_count):
        await Customer.bulk_create(
            [
                Customer(
                    id=customer_ids[i],
                    agency_id=agency.id,
                    name=f"Customer {i} Ltd",
                    owner_id=owner_ids[i % len(owner_ids)],
                    status="new",
                    created_at=start + timedelta(seconds=i),
                )
                for i in batch
            ],
            batch_size=BATCH,
        )

    tags: list[tuple[UUID, list[str]]] = []
    for batch in _batches(contacts):
        rows: list[Contact] = []
        links: list[CustomerContact] = []
        for i in batch:
            contact_id, names = uuid4(), contact_tags(rng)
            rows.append(
                Contact(
                    id=contact_id,
                    agency_id=agency.id,
                    first_name=f"First{i}",
                    last_name=f"Last{i}",
                    emails=[f"person{i}@bench.example.com"],
                    company_name=f"Company {i % 1000}",
                    owner_id=owner_ids[rng.randrange(len(owner_ids))],
                    status=CONTACT_STATUSES[i % len(CONTACT_STATUSES)],
                    created_at=start + timedelta(seconds=i),
                    tags=names,
                    deleted_at=start if i % DELETED_EVERY == 0 else None,
                )
            )
            rows[-1].refresh_search_text()  # bulk inserts skip `save`, which keeps it
            if rows[-1].deleted_at is None:
                tags.append((contact_id, names))
            # Four in five contacts work at a customer; the first contacts are primaries.
            if i % 5 != 4:
                customer = i % customer_count
                links.append(
                    CustomerContact(
                        id=uuid4(),
                        agency_id=agency.id,
                        customer_id=customer_ids[customer],
                        contact_id=contact_id,
                        role="primary" if i < customer_count else "staff",
                        is_primary=i < customer_count,
                    )
                )
        await Contact.bulk_create(rows, batch_size=BATCH)
        await CustomerContact.bulk_create(links, batch_size=BATCH)

    await load_tags(agency.id, tags)
    connection = Tortoise.get_connection("default")
    # Fresh planner statistics, as a database in service would have.
    await connection.execute_script(
        "VACUUM ANALYZE" if connection.capabilities.dialect == "postgres" else "ANALYZE"
    )
    return LoadedData(
        agency_id=agency.id,
        contacts=contacts,
        visible=contacts - len(range(0, contacts, DELETED_EVERY)),
        customers=customer_count,
        owners=len(owner_ids),
    )
