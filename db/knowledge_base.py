"""Knowledge base articles: what support answers from, and customers may read."""

from __future__ import annotations

from tortoise import fields

from db.search import Searchable


class Article(Searchable):
    """An article: a draft until published, internal (staff only) or public (customers may
    read it once published). The search column holds the title, category and the start of
    the body."""

    SEARCH_FIELDS = ("title", "category", "body")

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    title = fields.CharField(max_length=200)
    body = fields.TextField(default="")
    category = fields.CharField(max_length=50, default="")
    visibility = fields.CharField(max_length=10, default="internal")
    status = fields.CharField(max_length=10, default="draft", db_index=True)
    author_user_id = fields.UUIDField(null=True)
    published_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "kb_article"
        indexes = (("agency_id", "created_at", "id"),)
