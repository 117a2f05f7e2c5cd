"""The contacts page both ways: the GraphQL query and hand-written SQL returning the same data.

Both results are brought to one plain shape (`Row`), so the benchmark can check they are equal
before it times anything: the comparison is only honest if both do the same work.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from domain.lifecycles.contact import ContactStatus

PAGE_SIZE = 100

CONTACTS_PAGE = """
query BenchContacts($first: Int!) {
  contacts(first: $first) {
    edges { node {
      id firstName lastName status tags
      owner { id name }
      customer { id name }
    } }
  }
}"""

# The smallest signed-in read: what the API costs per request beyond a bare Strawberry app.
ONE_CONTACT = """
query BenchContact($id: ID!) {
  contact(id: $id) { id firstName lastName status }
}"""

Row = dict[str, Any]


def tags_sql(dialect: str) -> str:
    """The select-list expression giving a contact's tag names as a JSON array.

    A record keeps its tag names in its own `tags` column (the `record_tag` index beside it
    serves tag filters), so reading them is reading that column, as the API does.
    """
    del dialect  # the same column on both databases
    return "p.tags"


def page_sql(dialect: str) -> str:
    """Newest contacts first, with owner and customer, as the API defines them: the customer is
    the contact's primary link (else its oldest), if that customer exists.

    The customer is read by scalar subqueries rather than a join: on a join SQLite's planner
    scans the whole customer table to build a Bloom filter, which tripled the query's time at
    100,000 contacts. Only the first 100 rows of the index scan reach the subqueries.
    """
    return f"""
WITH page AS (
    SELECT id, first_name, last_name, status, tags, owner_id, created_at,
           (SELECT cc.customer_id FROM customer_contact cc
            WHERE cc.contact_id = contact.id AND cc.agency_id = :agency
            ORDER BY cc.is_primary DESC, cc.created_at
            LIMIT 1) AS linked_customer_id
    FROM contact
    WHERE agency_id = :agency AND deleted_at IS NULL
    ORDER BY created_at DESC, id DESC
    LIMIT :limit
), linked AS (
    SELECT page.*,
           (SELECT c.name FROM customer c
            WHERE c.id = page.linked_customer_id AND c.agency_id = :agency
              AND c.deleted_at IS NULL) AS customer_name
    FROM page
)
SELECT p.id, p.first_name, p.last_name, p.status, {tags_sql(dialect)} AS tags,
       u.id AS owner_id, u.name AS owner_name,
       CASE WHEN p.customer_name IS NULL THEN NULL ELSE p.linked_customer_id END AS customer_id,
       p.customer_name
FROM linked p
LEFT JOIN crm_user u ON u.id = p.owner_id AND u.agency_id = :agency
ORDER BY p.created_at DESC, p.id DESC
"""


def bind(sql: str, dialect: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """Named `:params` to the driver's placeholders (`$n` on PostgreSQL, `?` on SQLite)."""
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if dialect == "postgres":
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"
        names.append(name)
        return "?"

    text = re.sub(r":([a-z_]+)\b", placeholder, sql)
    return text, [params[name] for name in names]


def _uuid(value: Any) -> str | None:
    return None if value is None else str(UUID(str(value)))


def _tags(value: Any) -> list[str]:
    names = json.loads(value) if isinstance(value, str | bytes) else value
    return list(names or [])


async def contacts_by_sql(
    connection: BaseDBAsyncClient, agency_id: UUID, first: int = PAGE_SIZE
) -> list[Row]:
    """The page through one hand-written statement on the app's own connection (same driver)."""
    dialect = connection.capabilities.dialect
    agency: Any = agency_id if dialect == "postgres" else str(agency_id)
    sql, values = bind(page_sql(dialect), dialect, {"agency": agency, "limit": first})
    _, rows = await connection.execute_query(sql, values)
    return [
        {
            "id": _uuid(row["id"]),
            "firstName": row["first_name"],
            "lastName": row["last_name"],
            "status": row["status"],
            "tags": _tags(row["tags"]),
            "owner": None
            if row["owner_id"] is None
            else {"id": _uuid(row["owner_id"]), "name": row["owner_name"]},
            "customer": None
            if row["customer_id"] is None
            else {"id": _uuid(row["customer_id"]), "name": row["customer_name"]},
        }
        for row in rows
    ]


def _node_uuid(global_id: str) -> str:
    _, _, raw = base64.b64decode(global_id).decode().partition(":")
    return str(UUID(raw))


def _related(value: Row | None) -> Row | None:
    return None if value is None else {"id": _node_uuid(value["id"]), "name": value["name"]}


def rows_from_graphql(data: dict[str, Any]) -> list[Row]:
    """The GraphQL answer in the SQL rows' shape (raw ids, lifecycle state values)."""
    return [
        {
            "id": _node_uuid(node["id"]),
            "firstName": node["firstName"],
            "lastName": node["lastName"],
            "status": ContactStatus[node["status"]].value,
            "tags": list(node["tags"]),
            "owner": _related(node["owner"]),
            "customer": _related(node["customer"]),
        }
        for node in (edge["node"] for edge in data["contacts"]["edges"])
    ]
