"""Sign-in sessions and their rotating refresh tokens, failed sign-ins for throttling, and
password reset requests."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Session(Model):
    """One sign-in. Access tokens name it, so revoking it ends them at once."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    user_id = fields.UUIDField(db_index=True)
    # The client address it was opened from: a place the user is known to sign in from.
    address = fields.CharField(max_length=64, default="", db_default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "session"


class RefreshToken(Model):
    """A refresh token, stored as its SHA-256. Each is good for one refresh: using it again
    means it was stolen, and revokes the whole session."""

    id = fields.UUIDField(primary_key=True)
    session_id = fields.UUIDField(db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "refresh_token"


class LoginFailure(Model):
    """A failed sign-in, counted per account and per client address over a window."""

    id = fields.BigIntField(primary_key=True)
    email = fields.CharField(max_length=254, db_index=True)
    address = fields.CharField(max_length=64, db_index=True)
    occurred_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "login_failure"


class PasswordReset(Model):
    """One request to reset a forgotten password, made whether or not the email has an
    account (user_id is null when it has none), so requests are counted alike for throttling.
    The emailed link names the row, and is good until `expires_at` and for one use."""

    id = fields.UUIDField(primary_key=True)
    email = fields.CharField(max_length=254, db_index=True)
    address = fields.CharField(max_length=64, db_index=True)
    user_id = fields.UUIDField(null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "password_reset"
