"""Mailboxes connected over IMAP, for agencies that cannot point their mail at the CRM."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class EmailAccount(Model):
    """An IMAP mailbox the worker reads new mail from, remembering the last UID it took.

    The password (or app password) is kept encrypted with a key derived from the
    application secret. `uid_validity` is the folder's UIDVALIDITY when `last_uid` was read:
    if the server changes it, UIDs start over and so does the account (Message-IDs keep a
    message from being taken in twice).
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    # Who added it: they and admins may see and remove it.
    user_id = fields.UUIDField()
    # How its mail is routed: sales (unknown senders become leads) or support.
    purpose = fields.CharField(max_length=20)
    host = fields.CharField(max_length=253)
    port = fields.IntField()
    # ssl (IMAPS), starttls, or none (loopback and tests only)
    security = fields.CharField(max_length=10)
    username = fields.CharField(max_length=320)
    password_encrypted = fields.TextField()
    folder = fields.CharField(max_length=200, default="INBOX")
    uid_validity = fields.BigIntField(null=True)
    last_uid = fields.BigIntField(default=0)
    # ok, or failing (the last fetch's error in last_error; the next fetch tries again)
    status = fields.CharField(max_length=20, default="ok")
    last_error = fields.CharField(max_length=500, default="")
    last_fetched_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "email_account"
        unique_together = (("agency_id", "host", "username", "folder"),)
