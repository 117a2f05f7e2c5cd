"""Message templates of an agency and their versions: a draft, the published one, archived ones."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class MessageTemplate(Model):
    """A template of one agency, named by its key (`welcome`). Its text lives in its versions."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    key = fields.CharField(max_length=63)
    name = fields.CharField(max_length=200)
    kind = fields.CharField(max_length=20)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    versions: fields.ReverseRelation[MessageTemplateVersion]

    class Meta:
        table = "message_template"
        unique_together = (("agency_id", "key"),)


class MessageTemplateVersion(Model):
    """One text of a template. A draft has no number and is the only editable state. Publishing
    numbers it and archives the version published before it, so a sent message can name the
    exact version it used."""

    id = fields.BigIntField(primary_key=True)
    template: fields.ForeignKeyRelation[MessageTemplate] = fields.ForeignKeyField(
        "crm.MessageTemplate", related_name="versions", on_delete=fields.CASCADE
    )
    agency_id = fields.UUIDField()
    version = fields.IntField(null=True)
    status = fields.CharField(max_length=20)
    subject = fields.CharField(max_length=255)
    text_body = fields.TextField()
    html_body = fields.TextField(default="")
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    published_by = fields.CharField(max_length=100, default="")
    published_at = fields.DatetimeField(null=True)

    template_id: Any

    class Meta:
        table = "message_template_version"
        unique_together = (("template", "version"),)
