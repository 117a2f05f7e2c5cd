"""Customer portal sign-ins: one row per emailed one-time link, which becomes the session."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class PortalSignIn(Model):
    """A link emailed to a customer's contact. The link names the row and works once, until
    `link_expires_at`: using it opens the session (`signed_in_at`), which the portal's session
    token names and which lasts until `session_expires_at` or `ended_at`."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    contact_id = fields.UUIDField(db_index=True)
    customer_id = fields.UUIDField()
    created_at = fields.DatetimeField(auto_now_add=True)
    link_expires_at = fields.DatetimeField()
    signed_in_at = fields.DatetimeField(null=True)
    session_expires_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "portal_sign_in"
