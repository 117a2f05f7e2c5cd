"""The contact table."""

from __future__ import annotations

from tortoise import fields

from db.duplicates import DuplicateKeyed, contact_keys


class Contact(DuplicateKeyed):
    """A person the agency sells to. The status column is owned by the contact lifecycle."""

    SEARCH_FIELDS = ("full_name", "first_name", "last_name", "company_name", "emails")
    SEARCH_PHONE_FIELDS = ("phones",)
    RECORD_TYPE = "contact"
    DUPLICATE_KEY_FIELDS = ("first_name", "last_name", "emails", "phones")

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100, default="")
    emails: fields.Field[list[str]] = fields.JSONField(default=list)
    phones: fields.Field[list[str]] = fields.JSONField(default=list)
    company_name = fields.CharField(max_length=200, default="")
    job_title = fields.CharField(max_length=200, default="")
    street = fields.CharField(max_length=200, default="")
    city = fields.CharField(max_length=100, default="")
    region = fields.CharField(max_length=100, default="")
    postal_code = fields.CharField(max_length=20, default="")
    country = fields.CharField(max_length=2, default="")
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    source = fields.CharField(max_length=50, default="")
    tags: fields.Field[list[str]] = fields.JSONField(default=list)
    owner_id = fields.UUIDField(null=True)
    notes = fields.TextField(default="")
    status = fields.CharField(max_length=20, default="new", db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    deleted_at = fields.DatetimeField(null=True)
    # Set by a privacy erasure: the row stays only so that links to it resolve.
    erased_at = fields.DatetimeField(null=True)
    # Sort keys: copies of the values of the custom fields an admin marked sortable (up to
    # three number-like, dates and yes/no as numbers, and three text-like), kept by
    # domain.custom_field_sort_keys in the value's own transaction, so a list ordered by one
    # reads an index in order instead of sorting every match (docs/custom-fields.md).
    sort_number_1 = fields.FloatField(null=True)
    sort_number_2 = fields.FloatField(null=True)
    sort_number_3 = fields.FloatField(null=True)
    sort_text_1 = fields.CharField(max_length=500, null=True)
    sort_text_2 = fields.CharField(max_length=500, null=True)
    sort_text_3 = fields.CharField(max_length=500, null=True)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def duplicate_keys(self) -> list[str]:
        return contact_keys(self.first_name, self.last_name, self.emails, self.phones)

    class Meta:
        table = "contact"
        # The second serves a person's own list (owner and status filters) in keyset order
        # without sorting: the million-contact bench (bench/keyset_scale.py) shows its plan.
        # The third: dashboards count a person's (or a team's) new contacts by day.
        # The sort-key ones do for an ordering by a sortable custom field what the second does
        # for creation order.
        indexes = (
            ("agency_id", "created_at", "id"),
            ("agency_id", "owner_id", "status", "created_at", "id"),
            ("owner_id", "created_at"),
            ("agency_id", "owner_id", "status", "sort_number_1", "id"),
            ("agency_id", "owner_id", "status", "sort_number_2", "id"),
            ("agency_id", "owner_id", "status", "sort_number_3", "id"),
            ("agency_id", "owner_id", "status", "sort_text_1", "id"),
            ("agency_id", "owner_id", "status", "sort_text_2", "id"),
            ("agency_id", "owner_id", "status", "sort_text_3", "id"),
        )
