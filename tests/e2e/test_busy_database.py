"""A write refused because the database stayed busy past its wait, as a client sees it: a 503
with `Retry-After` and the code `BUSY`, nothing written, and the same request going through
when sent again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crm.graphql_http import GRAPHQL_RESPONSE_JSON, JSON
from db.agencies import Agency
from db.contacts import Contact
from tests.e2e.conftest import make_settings, open_api
from tests.fixtures.write_locks import another_writer

CREATE = """
mutation Create($input: CreateContactInput!) {
  createContact(input: $input) { contact { id firstName } errors { code message } }
}"""
ADA = {"input": {"firstName": "Ada", "emails": ["ada@example.com"], "tags": ["vip"]}}


@pytest.mark.parametrize("media_type", [GRAPHQL_RESPONSE_JSON, JSON])
async def test_a_write_refused_as_busy_is_a_503_to_retry_and_goes_through_when_sent_again(
    database_url: str, tmp_path: Path, media_type: str
) -> None:
    settings = make_settings(database_url, tmp_path, database_lock_wait_seconds=0.3)
    async with open_api(settings) as api:
        agency = await Agency.get(slug="acme")
        request: dict[str, Any] = {"query": CREATE, "variables": ADA}
        async with another_writer(database_url, agency.id):
            refused = await api.post(request, headers={"accept": media_type})

        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "1"
        assert refused.headers["content-type"].startswith(media_type)
        body = refused.json()
        assert body["data"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "BUSY", error
        assert error["extensions"]["retryAfter"] == 1
        assert error["path"] == ["createContact"]
        assert "locked" not in error["message"]  # no driver internals
        assert await Contact.filter(agency_id=agency.id).count() == 0

        again = await api.post(request, headers={"accept": media_type})
        assert again.status_code == 200, again.text
        assert again.json()["data"]["createContact"]["contact"]["firstName"] == "Ada"
        assert await Contact.filter(agency_id=agency.id).count() == 1
