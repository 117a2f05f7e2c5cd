"""Custom fields over GraphQL/HTTP: definitions, typed values written with their record,
filtering and ordering by them, and tenant isolation."""

from __future__ import annotations

from typing import Any

from db.audit import AuditEntry
from db.calling_tasks import CallingTask
from db.contacts import Contact
from db.custom_fields import CustomFieldValue
from domain.roles import Role
from tests.e2e.colleagues import colleague, other_agency_admin
from tests.e2e.conftest import Api

FIELD = "id key label type choices required maxLength minValue maxValue position archived"
DEFINE = f"""
mutation($input: DefineCustomFieldInput!) {{
  defineCustomField(input: $input) {{ customField {{ {FIELD} }} errors {{ field code message }} }}
}}"""
UPDATE_FIELD = f"""
mutation($input: UpdateCustomFieldInput!) {{
  updateCustomField(input: $input) {{ customField {{ {FIELD} }} errors {{ field code message }} }}
}}"""
ARCHIVE = f"""
mutation($id: ID!) {{
  archiveCustomField(input: {{id: $id}}) {{ customField {{ {FIELD} }} errors {{ field code }} }}
}}"""
FIELDS = f"""
query($type: CustomFieldRecordType, $archived: Boolean! = false) {{
  customFields(recordType: $type, includeArchived: $archived) {{ {FIELD} }}
}}"""
VALUES = "customFields { key label type text number date boolean choices }"
CREATE_CONTACT = f"""
mutation($input: CreateContactInput!) {{
  createContact(input: $input) {{
    contact {{ id firstName {VALUES} }} errors {{ field code message }}
  }}
}}"""
UPDATE_CONTACT = f"""
mutation($input: UpdateContactInput!) {{
  updateContact(input: $input) {{
    contact {{ id firstName {VALUES} }} errors {{ field code message }}
  }}
}}"""
CONTACTS = """
query($first: Int, $after: String, $filter: ContactFilter, $orderBy: ContactOrder) {
  contacts(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    edges { node { firstName } } pageInfo { hasNextPage endCursor }
  }
}"""
CUSTOMERS = """
query($first: Int, $after: String, $filter: CustomerFilter, $orderBy: CustomerOrder) {
  customers(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    edges { node { name } } pageInfo { hasNextPage endCursor }
  }
}"""


async def define(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.graphql(DEFINE, {"input": {"recordType": "CONTACT", **fields}})
    payload: dict[str, Any] = data["defineCustomField"]
    assert payload["errors"] == [], payload["errors"]
    field: dict[str, Any] = payload["customField"]
    return field


async def define_contact_fields(api: Api) -> None:
    await define(api, key="budget", label="Budget", type="NUMBER", minValue=0, maxValue=1e6)
    await define(api, key="tier", label="Tier", type="CHOICE", choices=["gold", "silver"])
    await define(api, key="topics", label="Topics", type="MULTI_CHOICE", choices=["a", "b", "c"])
    await define(api, key="nickname", label="Nickname", type="TEXT", maxLength=10)
    await define(api, key="renewal", label="Renewal", type="DATE")
    await define(api, key="vip", label="VIP", type="BOOLEAN")


async def create_contact(api: Api, name: str, values: list[dict[str, Any]]) -> dict[str, Any]:
    data = await api.graphql(CREATE_CONTACT, {"input": {"firstName": name, "customFields": values}})
    return dict(data["createContact"])


def by_key(values: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {value["key"]: value for value in values}


async def test_admin_defines_updates_and_archives_fields_everyone_reads_them(api: Api) -> None:
    budget = await define(api, key="budget", label="Budget", type="NUMBER")
    tier = await define(api, key="tier", label="Tier", type="CHOICE", choices=["gold", "silver"])
    assert (budget["position"], tier["position"]) == (0, 1)
    assert tier["choices"] == ["gold", "silver"]
    assert tier["archived"] is False

    renamed = await api.graphql(
        UPDATE_FIELD, {"input": {"id": tier["id"], "label": "Level", "choices": ["gold", "bronze"]}}
    )
    assert renamed["updateCustomField"]["customField"]["label"] == "Level"
    assert renamed["updateCustomField"]["customField"]["choices"] == ["gold", "bronze"]

    sales, _ = await colleague(api, Role.SALES_PERSON)
    listed = await sales.graphql(FIELDS, {"type": "CONTACT"})
    assert [f["key"] for f in listed["customFields"]] == ["budget", "tier"]
    assert (await sales.graphql(FIELDS, {"type": "DEAL"}))["customFields"] == []

    archived = await api.graphql(ARCHIVE, {"id": budget["id"]})
    assert archived["archiveCustomField"]["customField"]["archived"] is True
    assert [f["key"] for f in (await api.graphql(FIELDS, {}))["customFields"]] == ["tier"]
    everything = await api.graphql(FIELDS, {"archived": True})
    assert [f["key"] for f in everything["customFields"]] == ["budget", "tier"]
    # An archived field keeps its key, and cannot be changed any more.
    again = await api.graphql(
        DEFINE, {"input": {"recordType": "CONTACT", "key": "budget", "label": "B", "type": "TEXT"}}
    )
    assert [e["code"] for e in again["defineCustomField"]["errors"]] == ["DUPLICATE_KEY"]
    edit = await api.graphql(UPDATE_FIELD, {"input": {"id": budget["id"], "label": "Again"}})
    assert [e["code"] for e in edit["updateCustomField"]["errors"]] == ["ARCHIVED"]
    audited = await AuditEntry.filter(entity_type="custom_field")
    assert sorted(entry.action for entry in audited) == ["archive", "define", "define", "update"]


async def test_definitions_are_validated(api: Api) -> None:
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"key": "Budget", "label": "B", "type": "NUMBER"}, [("key", "INVALID")]),
        ({"key": "tier", "label": "T", "type": "CHOICE"}, [("choices", "REQUIRED")]),
        ({"key": "n", "label": "N", "type": "NUMBER", "maxLength": 3}, [("maxLength", "INVALID")]),
        (
            {"key": "n", "label": "N", "type": "NUMBER", "minValue": 5, "maxValue": 1},
            [("minValue", "OUT_OF_RANGE")],
        ),
        (
            {"key": "t", "label": "T", "type": "TEXT", "maxLength": 501},
            [("maxLength", "OUT_OF_RANGE")],
        ),
    ]
    for fields, expected in cases:
        data = await api.graphql(DEFINE, {"input": {"recordType": "CONTACT", **fields}})
        errors = data["defineCustomField"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == expected, fields


async def test_only_admins_and_sysadmins_define_fields(api: Api) -> None:
    for role in (Role.SALES_HEAD, Role.SALES_PERSON, Role.MARKETING, Role.CUSTOMER_SUPPORT):
        caller, _ = await colleague(api, role)
        data = await caller.graphql(
            DEFINE, {"input": {"recordType": "LEAD", "key": "x", "label": "X", "type": "TEXT"}}
        )
        assert [e["code"] for e in data["defineCustomField"]["errors"]] == ["FORBIDDEN"], role
    sysadmin, _ = await colleague(api, Role.SYSADMIN)
    await define(sysadmin, key="x", label="X", type="TEXT")


async def test_a_used_choice_cannot_be_removed(api: Api) -> None:
    tier = await define(api, key="tier", label="Tier", type="CHOICE", choices=["gold", "silver"])
    created = await create_contact(api, "Ada", [{"key": "tier", "choices": ["gold"]}])
    assert created["errors"] == []
    data = await api.graphql(UPDATE_FIELD, {"input": {"id": tier["id"], "choices": ["silver"]}})
    assert [e["code"] for e in data["updateCustomField"]["errors"]] == ["CHOICE_IN_USE"]
    data = await api.graphql(UPDATE_FIELD, {"input": {"id": tier["id"], "choices": ["gold"]}})
    assert data["updateCustomField"]["errors"] == []


async def test_values_of_every_type_are_written_with_the_record_and_read_back(api: Api) -> None:
    await define_contact_fields(api)
    created = await create_contact(
        api,
        "Ada",
        [
            {"key": "budget", "number": 1200.5},
            {"key": "tier", "choices": ["gold"]},
            {"key": "topics", "choices": ["c", "a"]},
            {"key": "nickname", "text": " Countess "},
            {"key": "renewal", "date": "2030-01-31"},
            {"key": "vip", "boolean": True},
        ],
    )
    assert created["errors"] == []
    values = by_key(created["contact"]["customFields"])
    assert [v["key"] for v in created["contact"]["customFields"]] == [
        "budget", "tier", "topics", "nickname", "renewal", "vip"
    ]  # fmt: skip
    assert values["budget"]["number"] == 1200.5
    assert values["budget"]["type"] == "NUMBER"
    assert values["tier"]["choices"] == ["gold"]
    assert values["topics"]["choices"] == ["a", "c"]  # in the definition's order
    assert values["nickname"]["text"] == "Countess"
    assert values["renewal"]["date"] == "2030-01-31"
    assert values["vip"]["boolean"] is True
    create_audit = await AuditEntry.get(entity_type="contact", action="create")
    assert create_audit.after["custom_fields"]["topics"] == ["a", "c"]

    updated = await api.graphql(
        UPDATE_CONTACT,
        {
            "input": {
                "id": created["contact"]["id"],
                "customFields": [{"key": "budget", "number": 99}, {"key": "nickname"}],
            }
        },
    )
    assert updated["updateContact"]["errors"] == []
    values = by_key(updated["updateContact"]["contact"]["customFields"])
    assert values["budget"]["number"] == 99
    assert values["nickname"]["text"] is None  # cleared
    assert values["tier"]["choices"] == ["gold"]  # untouched
    update_audit = await AuditEntry.get(entity_type="contact", action="update")
    assert update_audit.before == {"custom_fields": {"budget": 1200.5, "nickname": "Countess"}}
    assert update_audit.after == {"custom_fields": {"budget": 99.0, "nickname": None}}


async def test_each_type_rejects_what_it_does_not_hold_with_the_field_path(api: Api) -> None:
    await define_contact_fields(api)
    await define(api, key="source_id", label="Source", type="TEXT", required=True)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"key": "budget", "text": "lots"}, "customFields.budget", "NOT_A_NUMBER"),
        ({"key": "budget", "number": -1}, "customFields.budget", "OUT_OF_RANGE"),
        ({"key": "tier", "choices": ["platinum"]}, "customFields.tier", "NOT_A_CHOICE"),
        ({"key": "tier", "choices": ["gold", "silver"]}, "customFields.tier", "NOT_A_CHOICE"),
        ({"key": "topics", "text": "a"}, "customFields.topics", "NOT_A_CHOICE"),
        ({"key": "nickname", "text": "x" * 11}, "customFields.nickname", "TOO_LONG"),
        ({"key": "nickname", "number": 3}, "customFields.nickname", "NOT_TEXT"),
        ({"key": "renewal", "boolean": False}, "customFields.renewal", "NOT_A_DATE"),
        ({"key": "vip", "text": "yes"}, "customFields.vip", "NOT_A_BOOLEAN"),
        ({"key": "vip", "boolean": True, "text": "y"}, "customFields.vip", "INVALID"),
        ({"key": "nope", "text": "x"}, "customFields.nope", "UNKNOWN_FIELD"),
    ]
    for value, path, code in cases:
        result = await create_contact(api, "Bad", [value, {"key": "source_id", "text": "web"}])
        assert [(e["field"], e["code"]) for e in result["errors"]] == [(path, code)], value
    missing = await create_contact(api, "Bad", [])
    assert [(e["field"], e["code"]) for e in missing["errors"]] == [
        ("customFields.source_id", "REQUIRED")
    ]
    assert await Contact.all().count() == 0
    assert await CustomFieldValue.all().count() == 0


async def test_a_bad_value_leaves_nothing_written(api: Api) -> None:
    await define_contact_fields(api)
    bad: list[dict[str, Any]] = [
        {"key": "budget", "number": 10},
        {"key": "tier", "choices": ["platinum"]},
    ]
    result = await create_contact(api, "Ada", bad)
    assert [e["code"] for e in result["errors"]] == ["NOT_A_CHOICE"]
    assert await Contact.all().count() == 0
    assert await CustomFieldValue.all().count() == 0

    created = await create_contact(api, "Ada", [{"key": "budget", "number": 10}])
    update = {
        "id": created["contact"]["id"],
        "firstName": "Renamed",
        "customFields": [{"key": "budget", "number": 20}, {"key": "vip", "text": "no"}],
    }
    data = await api.graphql(UPDATE_CONTACT, {"input": update})
    assert [e["field"] for e in data["updateContact"]["errors"]] == ["customFields.vip"]
    contact = await Contact.get()
    assert contact.first_name == "Ada"
    stored = await CustomFieldValue.all()
    assert [row.number_value for row in stored] == [10.0]
    assert await AuditEntry.filter(entity_type="contact", action="update").count() == 0


async def walk(api: Api, query: str, root: str, name: str, **variables: Any) -> list[str]:
    """Every page (two rows each) of a list, following the cursors."""
    seen: list[str] = []
    after = None
    while True:
        data = await api.graphql(query, {"first": 2, "after": after, **variables})
        seen += [edge["node"][name] for edge in data[root]["edges"]]
        if not data[root]["pageInfo"]["hasNextPage"]:
            return seen
        after = data[root]["pageInfo"]["endCursor"]


async def seed_contacts(api: Api) -> None:
    await define_contact_fields(api)
    rows: dict[str, list[dict[str, Any]]] = {
        "Ann": [
            {"key": "budget", "number": 300},
            {"key": "tier", "choices": ["gold"]},
            {"key": "topics", "choices": ["a", "b"]},
            {"key": "nickname", "text": "Annie"},
            {"key": "renewal", "date": "2030-03-01"},
            {"key": "vip", "boolean": True},
        ],
        "Bob": [
            {"key": "budget", "number": 100},
            {"key": "tier", "choices": ["silver"]},
            {"key": "topics", "choices": ["c"]},
            {"key": "renewal", "date": "2030-01-01"},
            {"key": "vip", "boolean": False},
        ],
        "Cy": [{"key": "budget", "number": 300}, {"key": "nickname", "text": "bobby"}],
        "Di": [],
        "Ed": [{"key": "budget", "number": 200}, {"key": "topics", "choices": ["b"]}],
        "Flo": [],
    }
    for name, values in rows.items():
        assert (await create_contact(api, name, values))["errors"] == []


async def test_contacts_filter_by_custom_fields(api: Api) -> None:
    await seed_contacts(api)

    async def names(*conditions: dict[str, Any]) -> list[str]:
        data = await api.graphql(
            CONTACTS,
            {
                "first": 100,
                "filter": {"customFields": list(conditions)},
                "orderBy": {"field": "FIRST_NAME", "direction": "ASC"},
            },
        )
        return [edge["node"]["firstName"] for edge in data["contacts"]["edges"]]

    assert await names({"key": "budget", "equals": {"number": 300}}) == ["Ann", "Cy"]
    assert await names(
        {"key": "budget", "atLeast": {"number": 150}, "atMost": {"number": 250}}
    ) == ["Ed"]
    assert await names({"key": "tier", "anyOf": ["gold", "silver"]}) == ["Ann", "Bob"]
    assert await names({"key": "topics", "equals": {"text": "b"}}) == ["Ann", "Ed"]
    assert await names({"key": "topics", "anyOf": ["c", "a"]}) == ["Ann", "Bob"]
    assert await names({"key": "nickname", "contains": "BOB"}) == ["Cy"]
    assert await names({"key": "renewal", "atLeast": {"date": "2030-02-01"}}) == ["Ann"]
    assert await names({"key": "vip", "equals": {"boolean": False}}) == ["Bob"]
    assert await names({"key": "budget", "isSet": False}) == ["Di", "Flo"]
    assert await names({"key": "tier", "isSet": True}) == ["Ann", "Bob"]
    assert await names(
        {"key": "budget", "equals": {"number": 300}}, {"key": "vip", "isSet": True}
    ) == ["Ann"]

    for condition, code in (
        ({"key": "budget", "equals": {"text": "300"}}, "NOT_A_NUMBER"),
        ({"key": "budget", "contains": "3"}, "INVALID"),
        ({"key": "missing", "isSet": True}, "UNKNOWN_FIELD"),
    ):
        response = await api.post(
            {"query": CONTACTS, "variables": {"filter": {"customFields": [condition]}}}
        )
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == code, condition
        assert error["extensions"]["field"].startswith("filter.customFields.0")


async def test_contacts_sort_by_a_custom_field_across_pages(api: Api) -> None:
    await seed_contacts(api)
    # Records without a value come last in either direction; ties and blanks go by id.
    ascending = await walk(
        api,
        CONTACTS,
        "contacts",
        "firstName",
        orderBy={"customField": "budget", "direction": "ASC"},
    )
    assert ascending[:2] == ["Bob", "Ed"]
    assert sorted(ascending[2:4]) == ["Ann", "Cy"]
    assert sorted(ascending[4:]) == ["Di", "Flo"]
    descending = await walk(
        api,
        CONTACTS,
        "contacts",
        "firstName",
        orderBy={"customField": "budget", "direction": "DESC"},
    )
    assert sorted(descending[:2]) == ["Ann", "Cy"]
    assert descending[2:4] == ["Ed", "Bob"]
    assert sorted(descending[4:]) == ["Di", "Flo"]
    assert ascending[2:4] == descending[:2][::-1]  # the id tiebreak, reversed
    by_date = await walk(
        api,
        CONTACTS,
        "contacts",
        "firstName",
        orderBy={"customField": "renewal", "direction": "ASC"},
    )
    assert by_date[:2] == ["Bob", "Ann"]
    assert len(by_date) == 6
    by_text = await walk(
        api, CONTACTS, "contacts", "firstName", orderBy={"customField": "tier", "direction": "DESC"}
    )
    assert by_text[:2] == ["Bob", "Ann"]
    assert len(by_text) == 6
    response = await api.post(
        {"query": CONTACTS, "variables": {"orderBy": {"customField": "topics"}}}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID"


MARK = """
mutation($input: UpdateCustomFieldInput!) {
  updateCustomField(input: $input) {
    customField { key sortable sortIndexReady sortKeysFilled } errors { field code }
  }
}"""


async def test_a_field_marked_sortable_orders_pages_as_before_through_its_index(api: Api) -> None:
    await seed_contacts(api)
    orders = [
        {"customField": key, "direction": direction}
        for key in ("budget", "renewal", "tier", "vip", "nickname")
        for direction in ("ASC", "DESC")
    ]
    before = [await walk(api, CONTACTS, "contacts", "firstName", orderBy=o) for o in orders]
    ids = {f["key"]: f["id"] for f in (await api.graphql(FIELDS, {}))["customFields"]}
    for key in ("budget", "renewal", "tier", "vip", "nickname"):
        marked = await api.graphql(MARK, {"input": {"id": ids[key], "sortable": True}})
        assert marked["updateCustomField"] == {
            "customField": {
                "key": key,
                "sortable": True,
                "sortIndexReady": True,  # six contacts: the marking's own batch filled them
                "sortKeysFilled": 6,
            },
            "errors": [],
        }
    after = [await walk(api, CONTACTS, "contacts", "firstName", orderBy=o) for o in orders]
    assert after == before
    assert await Contact.filter(sort_number_1=300).count() == 2  # budget took the first column

    refused = await api.graphql(MARK, {"input": {"id": ids["topics"], "sortable": True}})
    assert refused["updateCustomField"]["errors"] == [{"field": "sortable", "code": "INVALID"}]
    unmarked = await api.graphql(MARK, {"input": {"id": ids["budget"], "sortable": False}})
    assert unmarked["updateCustomField"]["customField"]["sortable"] is False
    assert await walk(api, CONTACTS, "contacts", "firstName", orderBy=orders[0]) == before[0]


async def test_customers_leads_and_deals_take_filter_and_sort_by_custom_fields(api: Api) -> None:
    for record_type in ("CUSTOMER", "LEAD", "DEAL"):
        await define(api, recordType=record_type, key="size", label="Size", type="NUMBER")
    for name, size in (("Small", 1), ("Large", 30), ("None", None), ("Mid", 10)):
        values = [{"key": "size", "number": size}] if size is not None else []
        created = await api.graphql(
            "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) "
            f"{{ customer {{ name {VALUES} }} errors {{ code }} }} }}",
            {"input": {"name": name, "customFields": values}},
        )
        assert created["createCustomer"]["errors"] == []
    ordered = await walk(
        api, CUSTOMERS, "customers", "name", orderBy={"customField": "size", "direction": "DESC"}
    )
    assert ordered == ["Large", "Mid", "Small", "None"]
    filtered = await api.graphql(
        CUSTOMERS, {"filter": {"customFields": [{"key": "size", "atLeast": {"number": 5}}]}}
    )
    assert sorted(e["node"]["name"] for e in filtered["customers"]["edges"]) == ["Large", "Mid"]

    lead = await api.graphql(
        f'mutation {{ createLead(input: {{title: "L", customFields: [{{key: "size", number: 4}}]}})'
        f" {{ lead {{ {VALUES} }} errors {{ code }} }} }}"
    )
    assert lead["createLead"]["lead"]["customFields"][0]["number"] == 4
    leads = await api.graphql(
        '{ leads(filter: {customFields: [{key: "size", equals: {number: 4}}]}, '
        'orderBy: {customField: "size"}) { edges { node { title } } } }'
    )
    assert [e["node"]["title"] for e in leads["leads"]["edges"]] == ["L"]
    deal = await api.graphql(
        'mutation { createDeal(input: {name: "D", expectedCloseDate: "2030-01-01", '
        'customFields: [{key: "size", number: 7}]}) '
        f"{{ deal {{ id {VALUES} }} errors {{ code }} }} }}"
    )
    assert deal["createDeal"]["deal"]["customFields"][0]["number"] == 7
    moved = await api.graphql(
        "mutation($id: ID!) { updateDeal(input: {id: $id, customFields: "
        '[{key: "size", text: "big"}]}) { errors { field code } } }',
        {"id": deal["createDeal"]["deal"]["id"]},
    )
    assert moved["updateDeal"]["errors"] == [{"field": "customFields.size", "code": "NOT_A_NUMBER"}]
    deals = await api.graphql(
        '{ deals(filter: {customFields: [{key: "size", isSet: true}]}, '
        'orderBy: {customField: "size", direction: DESC}) { edges { node { name } } } }'
    )
    assert [e["node"]["name"] for e in deals["deals"]["edges"]] == ["D"]


async def test_another_agencys_fields_are_invisible_and_unusable(api: Api) -> None:
    await define(api, key="budget", label="Budget", type="NUMBER")
    bolt = await other_agency_admin(api)
    assert (await bolt.graphql(FIELDS, {}))["customFields"] == []
    created = await create_contact(bolt, "Eve", [{"key": "budget", "number": 1}])
    assert [e["code"] for e in created["errors"]] == ["UNKNOWN_FIELD"]
    plain = await create_contact(bolt, "Eve", [])
    assert plain["contact"]["customFields"] == []
    response = await bolt.post(
        {"query": CONTACTS, "variables": {"orderBy": {"customField": "budget"}}}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNKNOWN_FIELD"
    acme_field = (await api.graphql(FIELDS, {}))["customFields"][0]
    archived = await bolt.graphql(ARCHIVE, {"id": acme_field["id"]})
    assert [e["code"] for e in archived["archiveCustomField"]["errors"]] == ["NOT_FOUND"]


CALLING_TASK = f"callingTask {{ id subject {VALUES} }} errors {{ field code message }}"
CREATE_TASK = f"""
mutation($input: CreateCallingTaskInput!) {{
  createCallingTask(input: $input) {{ {CALLING_TASK} }}
}}
"""
UPDATE_TASK = f"""
mutation($input: UpdateCallingTaskInput!) {{
  updateCallingTask(input: $input) {{ {CALLING_TASK} }}
}}
"""
TASKS = """
query($first: Int, $after: String, $filter: CallingTaskFilter, $orderBy: CallingTaskOrder) {
  callingTasks(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    edges { node { subject } } pageInfo { hasNextPage endCursor }
  }
}"""


async def test_calling_tasks_take_write_filter_and_sort_by_custom_fields(api: Api) -> None:
    await define(
        api, recordType="CALLING_TASK", key="attempts", label="Attempts", type="NUMBER", minValue=0
    )
    await define(
        api,
        recordType="CALLING_TASK",
        key="mood",
        label="Mood",
        type="CHOICE",
        choices=["warm", "cold"],
    )
    listed = await api.graphql(FIELDS, {"type": "CALLING_TASK"})
    assert [f["key"] for f in listed["customFields"]] == ["attempts", "mood"]
    kim = await api.graphql(
        'mutation { createContact(input: {firstName: "Kim"}) { contact { id } } }'
    )
    contact_id = kim["createContact"]["contact"]["id"]

    async def create(subject: str, values: list[dict[str, Any]]) -> dict[str, Any]:
        data = await api.graphql(
            CREATE_TASK,
            {"input": {"subject": subject, "contactId": contact_id, "customFields": values}},
        )
        return dict(data["createCallingTask"])

    first = await create("First", [{"key": "attempts", "number": 3}, {"key": "mood", "text": "x"}])
    assert [(e["field"], e["code"]) for e in first["errors"]] == [
        ("customFields.mood", "NOT_A_CHOICE")
    ]
    first = await create("First", [{"key": "attempts", "number": -1}])
    assert [(e["field"], e["code"]) for e in first["errors"]] == [
        ("customFields.attempts", "OUT_OF_RANGE")
    ]
    assert await CallingTask.all().count() == 0

    rows: dict[str, list[dict[str, Any]]] = {
        "Ann": [{"key": "attempts", "number": 3}, {"key": "mood", "choices": ["warm"]}],
        "Bob": [{"key": "attempts", "number": 1}],
        "Cy": [],
        "Di": [{"key": "attempts", "number": 2}, {"key": "mood", "choices": ["cold"]}],
    }
    created = {name: await create(name, values) for name, values in rows.items()}
    assert all(outcome["errors"] == [] for outcome in created.values())
    ann = by_key(created["Ann"]["callingTask"]["customFields"])
    assert (ann["attempts"]["number"], ann["mood"]["choices"]) == (3, ["warm"])
    creations = await AuditEntry.filter(entity_type="calling_task", action="create")
    logged = {entry.after["subject"]: entry.after.get("custom_fields") for entry in creations}
    assert logged["Ann"] == {"attempts": 3.0, "mood": "warm"}
    assert logged["Cy"] is None

    updated = await api.graphql(
        UPDATE_TASK,
        {
            "input": {
                "id": created["Cy"]["callingTask"]["id"],
                "customFields": [{"key": "attempts", "number": 5}],
            }
        },
    )
    assert updated["updateCallingTask"]["errors"] == []
    assert (
        by_key(updated["updateCallingTask"]["callingTask"]["customFields"])["attempts"]["number"]
        == 5
    )
    rejected = await api.graphql(
        UPDATE_TASK,
        {
            "input": {
                "id": created["Bob"]["callingTask"]["id"],
                "subject": "Renamed",
                "customFields": [{"key": "attempts", "boolean": True}],
            }
        },
    )
    errors = rejected["updateCallingTask"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("customFields.attempts", "NOT_A_NUMBER")]
    assert await CallingTask.filter(subject="Renamed").count() == 0
    change = await AuditEntry.get(entity_type="calling_task", action="update")
    assert change.before == {"custom_fields": {"attempts": None}}
    assert change.after == {"custom_fields": {"attempts": 5.0}}

    filtered = await api.graphql(
        TASKS,
        {
            "first": 10,
            "filter": {"customFields": [{"key": "attempts", "atLeast": {"number": 2}}]},
            "orderBy": {"customField": "attempts", "direction": "ASC"},
        },
    )
    assert [e["node"]["subject"] for e in filtered["callingTasks"]["edges"]] == ["Di", "Ann", "Cy"]
    warm = await api.graphql(TASKS, {"filter": {"customFields": [{"key": "mood", "isSet": False}]}})
    assert sorted(e["node"]["subject"] for e in warm["callingTasks"]["edges"]) == ["Bob", "Cy"]
    ordered = await walk(
        api, TASKS, "callingTasks", "subject", orderBy={"customField": "mood", "direction": "DESC"}
    )
    assert ordered[:2] == ["Ann", "Di"]  # warm, cold; tasks without a mood last
    assert sorted(ordered[2:]) == ["Bob", "Cy"]
    response = await api.post({"query": TASKS, "variables": {"orderBy": {"customField": "budget"}}})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNKNOWN_FIELD"
