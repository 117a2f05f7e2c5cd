"""Customers over GraphQL/HTTP: CRUD, hierarchy, linked contacts, lifecycle guards, conversion."""

from __future__ import annotations

from typing import Any

from db.audit import AuditEntry
from db.contacts import Contact
from db.customers import Customer, CustomerContact
from db.events import Event
from tests.e2e.conftest import Api

FIELDS = """
    id name status allowedEvents tags billingEmail currency paymentTermsDays
    parent { id name } owner { id name }
    contacts { role isPrimary contact { id firstName } }
"""
CREATE = f"""
mutation($input: CreateCustomerInput!) {{
  createCustomer(input: $input) {{ customer {{ {FIELDS} }} errors {{ field code message }} }}
}}"""
UPDATE = f"""
mutation($input: UpdateCustomerInput!) {{
  updateCustomer(input: $input) {{ customer {{ {FIELDS} }} errors {{ field code message }} }}
}}"""
MOVE = """
mutation($id: ID!, $event: CustomerEvent!) {
  transitionCustomer(input: {id: $id, event: $event}) {
    customer { status allowedEvents } errors { field code message }
  }
}"""
LINK = f"""
mutation($id: ID!, $contact: ID!, $role: String!, $primary: Boolean!) {{
  linkCustomerContact(input: {{id: $id, contactId: $contact, role: $role, isPrimary: $primary}}) {{
    customer {{ {FIELDS} }} errors {{ field code message }}
  }}
}}"""
CREATE_CONTACT = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id } errors { code } }
}"""
CONTACT_MOVE = """
mutation($id: ID!, $event: ContactEvent!) {
  transitionContact(input: {id: $id, event: $event}) { contact { status } errors { code } }
}"""
CONVERT = """
mutation($input: ConvertContactInput!) {
  convertContact(input: $input) {
    contact { id status customer { id name } } customer { id name status
      contacts { role isPrimary contact { id } } }
    errors { field code message }
  }
}"""


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.graphql(CREATE, {"input": {"name": "Initech", **fields}})
    assert data["createCustomer"]["errors"] == [], data["createCustomer"]["errors"]
    customer: dict[str, Any] = data["createCustomer"]["customer"]
    return customer


async def contact(api: Api, **fields: Any) -> str:
    data = await api.graphql(CREATE_CONTACT, {"input": {"firstName": "Peter", **fields}})
    assert data["createContact"]["errors"] == []
    contact_id: str = data["createContact"]["contact"]["id"]
    return contact_id


async def test_create_customer_with_billing_details_and_parent(api: Api) -> None:
    parent = await create(api, name="Initrode Holdings")
    child = await create(
        api,
        name="Initrode Labs",
        parentId=parent["id"],
        tags=["enterprise"],
        billingEmail="AP@Initrode.example.com",
        currency="eur",
        paymentTermsDays=30,
    )
    assert child["status"] == "DRAFT"
    assert child["parent"] == {"id": parent["id"], "name": "Initrode Holdings"}
    assert child["billingEmail"] == "AP@initrode.example.com"
    assert child["currency"] == "EUR"
    assert child["owner"]["name"] == "Ada Admin"


async def test_invalid_input_is_typed_and_writes_nothing(api: Api) -> None:
    data = await api.graphql(
        CREATE,
        {
            "input": {
                "name": "",
                "billingEmail": "nope",
                "currency": "EURO",
                "paymentTermsDays": 400,
                "website": "ftp://x",
            }
        },
    )
    codes = {e["field"]: e["code"] for e in data["createCustomer"]["errors"]}
    assert codes == {
        "name": "REQUIRED",
        "billingEmail": "INVALID_EMAIL",
        "currency": "INVALID",
        "paymentTermsDays": "OUT_OF_RANGE",
        "website": "INVALID",
    }
    assert await Customer.all().count() == 0


UNITS = """
mutation($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) {
    customer { billingUnits { name billingEmail currency paymentTermsDays purchaseOrder } }
    errors { field code message }
  }
}"""


async def test_billing_units_are_kept_in_order_replaced_whole_and_audited(api: Api) -> None:
    customer = await create(api, name="Initrode", billingEmail="ap@initrode.example.com")
    emea = {"name": "EMEA", "billingEmail": "EMEA@Initrode.example.com", "currency": "eur"}
    us = {"name": "US", "paymentTermsDays": 45, "purchaseOrder": "PO-7"}
    data = await api.graphql(UNITS, {"input": {"id": customer["id"], "billingUnits": [emea, us]}})
    assert data["updateCustomer"]["errors"] == []
    assert data["updateCustomer"]["customer"]["billingUnits"] == [
        {
            "name": "EMEA",
            "billingEmail": "EMEA@initrode.example.com",  # the domain is normalised
            "currency": "EUR",
            "paymentTermsDays": None,
            "purchaseOrder": "",
        },
        {
            "name": "US",
            "billingEmail": "",
            "currency": "",
            "paymentTermsDays": 45,
            "purchaseOrder": "PO-7",
        },
    ]
    # An update names the whole list: what it leaves out is gone.
    data = await api.graphql(UNITS, {"input": {"id": customer["id"], "billingUnits": [us]}})
    assert [unit["name"] for unit in data["updateCustomer"]["customer"]["billingUnits"]] == ["US"]
    entry = await AuditEntry.filter(entity_type="customer", action="update").order_by("-id").first()
    assert entry is not None
    assert [unit["name"] for unit in entry.before["billing_units"]] == ["EMEA", "US"]
    assert [unit["name"] for unit in entry.after["billing_units"]] == ["US"]


async def test_bad_billing_units_are_typed_errors_on_their_field_and_change_nothing(
    api: Api,
) -> None:
    customer = await create(api, name="Initrode")
    cases = [
        ([{"name": "EMEA"}, {"name": "emea"}], "billingUnits", "INVALID"),
        (
            [{"name": "EMEA"}, {"name": "US", "billingEmail": "nope"}],
            "billingUnits.1.billingEmail",
            "INVALID_EMAIL",
        ),
        ([{"name": " "}], "billingUnits.0.name", "REQUIRED"),
        (
            [{"name": "EMEA", "paymentTermsDays": -1}],
            "billingUnits.0.paymentTermsDays",
            "OUT_OF_RANGE",
        ),
        ([{"name": f"Unit {n}"} for n in range(21)], "billingUnits", "TOO_MANY"),
    ]
    for units, field, code in cases:
        data = await api.graphql(UNITS, {"input": {"id": customer["id"], "billingUnits": units}})
        errors = data["updateCustomer"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], units
    row = await Customer.get(name="Initrode")
    assert row.billing_units == []


async def test_a_customer_cannot_become_its_own_ancestor(api: Api) -> None:
    top = await create(api, name="Top")
    middle = await create(api, name="Middle", parentId=top["id"])
    data = await api.graphql(UPDATE, {"input": {"id": top["id"], "parentId": middle["id"]}})
    assert data["updateCustomer"]["errors"][0]["code"] == "PARENT_CYCLE"
    assert (await Customer.get(name="Top")).parent_id is None


async def test_activation_needs_a_primary_contact_and_billing_details(api: Api) -> None:
    customer = await create(api)
    submitted = await api.graphql(MOVE, {"id": customer["id"], "event": "SUBMIT"})
    assert submitted["transitionCustomer"]["customer"]["status"] == "NEW"

    refused = (await api.graphql(MOVE, {"id": customer["id"], "event": "ACTIVATE"}))[
        "transitionCustomer"
    ]
    assert refused["customer"] is None
    assert refused["errors"][0]["code"] == "GUARD_FAILED"
    assert "primary contact" in refused["errors"][0]["message"]
    assert "billing" in refused["errors"][0]["message"]

    linked = await api.graphql(
        LINK, {"id": customer["id"], "contact": await contact(api), "role": "CEO", "primary": True}
    )
    assert linked["linkCustomerContact"]["customer"]["contacts"][0]["isPrimary"] is True
    await api.graphql(
        UPDATE,
        {
            "input": {
                "id": customer["id"],
                "billingEmail": "ap@initech.example.com",
                "billingAddress": "1 Initech Way",
            }
        },
    )
    active = await api.graphql(MOVE, {"id": customer["id"], "event": "ACTIVATE"})
    assert active["transitionCustomer"] == {
        "customer": {"status": "ACTIVE", "allowedEvents": ["DEACTIVATE", "BLOCK"]},
        "errors": [],
    }


async def test_illegal_customer_event_lists_the_allowed_ones(api: Api) -> None:
    customer = await create(api)
    data = await api.graphql(MOVE, {"id": customer["id"], "event": "DEACTIVATE"})
    error = data["transitionCustomer"]["errors"][0]
    assert error["code"] == "INVALID_TRANSITION"
    assert "SUBMIT" in error["message"]


async def test_one_primary_contact_at_a_time(api: Api) -> None:
    customer = await create(api)
    first, second = await contact(api, firstName="First"), await contact(api, firstName="Second")
    await api.graphql(
        LINK, {"id": customer["id"], "contact": first, "role": "CEO", "primary": True}
    )
    data = await api.graphql(
        LINK, {"id": customer["id"], "contact": second, "role": "CFO", "primary": True}
    )
    links = data["linkCustomerContact"]["customer"]["contacts"]
    assert [(link["contact"]["id"], link["isPrimary"]) for link in links] == [
        (second, True),
        (first, False),
    ]


async def test_converting_a_hot_contact_creates_its_customer_in_one_go(api: Api) -> None:
    contact_id = await contact(api, companyName="Chotchkie's")
    await api.graphql(CONTACT_MOVE, {"id": contact_id, "event": "MARK_HOT"})
    data = (await api.graphql(CONVERT, {"input": {"id": contact_id}}))["convertContact"]
    assert data["errors"] == []
    assert data["contact"]["status"] == "CONVERTED"
    assert data["customer"]["name"] == "Chotchkie's"
    assert data["customer"]["status"] == "DRAFT"
    assert data["customer"]["contacts"] == [
        {"role": "primary", "isPrimary": True, "contact": {"id": contact_id}}
    ]
    assert data["contact"]["customer"] == {
        "id": data["customer"]["id"],
        "name": "Chotchkie's",
    }
    types = [event.type for event in await Event.all().order_by("id")]
    assert types[-3:] == ["contact.transitioned", "customer.created", "customer.contact_linked"]


async def test_converting_links_an_existing_customer(api: Api) -> None:
    existing = await create(api, name="Existing Co")
    contact_id = await contact(api)
    await api.graphql(CONTACT_MOVE, {"id": contact_id, "event": "MARK_HOT"})
    data = (
        await api.graphql(CONVERT, {"input": {"id": contact_id, "customerId": existing["id"]}})
    )["convertContact"]
    assert data["customer"]["id"] == existing["id"]
    assert await Customer.all().count() == 1


async def test_failed_conversion_changes_nothing(api: Api) -> None:
    contact_id = await contact(api)
    await api.graphql(CONTACT_MOVE, {"id": contact_id, "event": "MARK_HOT"})
    data = (
        await api.graphql(
            CONVERT, {"input": {"id": contact_id, "newCustomer": {"name": "x" * 300}}}
        )
    )["convertContact"]
    assert data["errors"][0]["code"] == "TOO_LONG"
    assert (await Contact.get()).status == "hot"
    assert await Customer.all().count() == 0
    assert await CustomerContact.all().count() == 0


async def test_transition_convert_uses_the_same_conversion(api: Api) -> None:
    contact_id = await contact(api, companyName="Penetrode")
    await api.graphql(CONTACT_MOVE, {"id": contact_id, "event": "MARK_HOT"})
    moved = await api.graphql(CONTACT_MOVE, {"id": contact_id, "event": "CONVERT"})
    assert moved["transitionContact"] == {"contact": {"status": "CONVERTED"}, "errors": []}
    assert [c.name for c in await Customer.all()] == ["Penetrode"]


async def test_the_old_preference_fields_read_and_write_the_customers_message_preferences(
    api: Api,
) -> None:
    created = await api.graphql(
        """mutation {
          createCustomer(input: {name: "Initech", preferredChannel: "sms",
                                 notificationSubscriptions: ["newsletter"]}) {
            customer { id preferredChannel notificationSubscriptions
                       messagePreferences { channel topics receives } }
            errors { field code }
          }
        }"""
    )
    customer = created["createCustomer"]["customer"]
    assert customer["preferredChannel"] == "sms"
    assert customer["notificationSubscriptions"] == ["newsletter"]
    assert customer["messagePreferences"] == {
        "channel": "SMS",
        "topics": ["newsletter"],
        "receives": ["TRANSACTIONAL", "SALES", "MARKETING", "GREETINGS"],
    }
    refused = await api.graphql(
        """mutation($id: ID!) {
          updateCustomer(input: {id: $id, preferredChannel: "fax"}) { errors { field code } }
        }""",
        {"id": customer["id"]},
    )
    assert refused["updateCustomer"]["errors"] == [{"field": "preferredChannel", "code": "INVALID"}]
    changed = await api.graphql(
        """mutation($id: ID!) {
          updateCustomer(input: {id: $id, preferredChannel: "email"}) {
            customer { messagePreferences { channel topics } } errors { code }
          }
        }""",
        {"id": customer["id"]},
    )
    assert changed["updateCustomer"]["customer"]["messagePreferences"] == {
        "channel": "EMAIL",
        "topics": ["newsletter"],
    }
