"""Roles and the row scope each role grants, per kind of record. The one access table."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SYSADMIN = "sysadmin"
    SALES_HEAD = "sales_head"
    SALES_PERSON = "sales_person"
    CUSTOMER_SUPPORT = "customer_support"
    MARKETING = "marketing"


class RowScope(IntEnum):
    """How many rows an actor may touch; ordered, so several roles combine with max()."""

    NONE = 0
    OWN = 1  # rows the actor owns
    TEAM = 2  # rows owned by anyone in the actor's org unit or below
    AGENCY = 3  # every row of the agency


class Access(StrEnum):
    READ = "read"
    WRITE = "write"


class Resource(StrEnum):
    """Kinds of data a policy is written for (sales records share one row-scope rule)."""

    SALES_RECORDS = "sales_records"
    USERS = "users"
    ORGANISATION = "organisation"
    API_KEYS = "api_keys"
    AUDIT = "audit"
    WEBHOOKS = "webhooks"
    FLOWS = "flows"  # flow definitions and the runs' controls (cancel, retry)
    TAGS = "tags"  # curating the agency's tag catalogue (tagging records is SALES_RECORDS)
    CUSTOM_FIELDS = "custom_fields"  # defining fields; every actor of the agency reads them
    TEMPLATES = "templates"  # message templates: admins and sysadmins write, senders read
    BROADCASTS = "broadcasts"  # one template to an audience: admins and marketing
    EMAIL_ACCOUNTS = "email_accounts"  # IMAP mailboxes: each person their own, admins all
    PERSONAL_DATA = "personal_data"  # privacy requests: a person's export and erasure
    # Campaigns: everyone reads those their visibility shows them; marketing and admins run
    # any, sales people their own (a referral form), sales heads their team's.
    CAMPAIGNS = "campaigns"
    TICKETS = "tickets"  # the service desk: rows scoped by the assignee
    KNOWLEDGE_BASE = "knowledge_base"  # articles: support writes, every person reads
    # Files of records brought in at once: whoever creates sales records in bulk (admins,
    # sales heads for their team, sales people and marketing their own), each seeing the
    # imports they may (rows scoped by the uploader).
    IMPORTS = "imports"
    # Reports mailed on a cadence: admins keep any of the agency's, sales heads and sysadmins
    # their own (each built with its owner's row scope).
    REPORT_SCHEDULES = "report_schedules"


ROW_SCOPES: dict[Role, dict[Resource, dict[Access, RowScope]]] = {
    Role.ADMIN: {
        Resource.SALES_RECORDS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.USERS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.ORGANISATION: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.API_KEYS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.AUDIT: {Access.READ: RowScope.AGENCY},
        Resource.WEBHOOKS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.FLOWS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.TAGS: {Access.WRITE: RowScope.AGENCY},
        Resource.CUSTOM_FIELDS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.TEMPLATES: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.BROADCASTS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.EMAIL_ACCOUNTS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.PERSONAL_DATA: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.CAMPAIGNS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.TICKETS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.KNOWLEDGE_BASE: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.IMPORTS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.REPORT_SCHEDULES: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
    },
    # Sysadmins run the machinery (flows, templates, custom fields), not the sales data.
    Role.SYSADMIN: {
        Resource.USERS: {Access.READ: RowScope.AGENCY},
        Resource.ORGANISATION: {Access.READ: RowScope.AGENCY},
        Resource.FLOWS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.CUSTOM_FIELDS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.TEMPLATES: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.CAMPAIGNS: {Access.READ: RowScope.AGENCY},
        Resource.REPORT_SCHEDULES: {Access.READ: RowScope.OWN, Access.WRITE: RowScope.OWN},
    },
    Role.SALES_HEAD: {
        Resource.SALES_RECORDS: {Access.READ: RowScope.TEAM, Access.WRITE: RowScope.TEAM},
        Resource.USERS: {Access.READ: RowScope.TEAM},
        Resource.ORGANISATION: {Access.READ: RowScope.AGENCY},
        # The catalogue is the agency's: a sales head renames a tag for everyone.
        Resource.TAGS: {Access.WRITE: RowScope.AGENCY},
        Resource.TEMPLATES: {Access.READ: RowScope.AGENCY},
        Resource.BROADCASTS: {Access.READ: RowScope.AGENCY},
        Resource.EMAIL_ACCOUNTS: {Access.READ: RowScope.OWN, Access.WRITE: RowScope.OWN},
        Resource.CAMPAIGNS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.TEAM},
        # Breaches escalate to sales heads: they read every ticket and work their team's.
        Resource.TICKETS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.TEAM},
        Resource.KNOWLEDGE_BASE: {Access.READ: RowScope.AGENCY},
        Resource.IMPORTS: {Access.READ: RowScope.TEAM, Access.WRITE: RowScope.TEAM},
        Resource.REPORT_SCHEDULES: {Access.READ: RowScope.OWN, Access.WRITE: RowScope.OWN},
    },
    Role.SALES_PERSON: {
        Resource.SALES_RECORDS: {Access.READ: RowScope.OWN, Access.WRITE: RowScope.OWN},
        Resource.USERS: {Access.READ: RowScope.OWN},
        Resource.TEMPLATES: {Access.READ: RowScope.AGENCY},
        Resource.EMAIL_ACCOUNTS: {Access.READ: RowScope.OWN, Access.WRITE: RowScope.OWN},
        Resource.CAMPAIGNS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.OWN},
        # A sales person works only the tickets handed to them (a question about an offer,
        # say); the queue is support's. They also read, not work, the tickets of the customers
        # they own (`domain.policies.rows`).
        Resource.TICKETS: {Access.READ: RowScope.OWN, Access.WRITE: RowScope.OWN},
        Resource.KNOWLEDGE_BASE: {Access.READ: RowScope.AGENCY},
        Resource.IMPORTS: {Access.READ: RowScope.OWN, Access.WRITE: RowScope.OWN},
    },
    # Support handles calls and tickets for any customer of the agency: it reads sales
    # records agency-wide and changes only the ones assigned to it. Tickets are one queue:
    # any agent picks up, answers or hands on any of the agency's.
    Role.CUSTOMER_SUPPORT: {
        Resource.SALES_RECORDS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.OWN},
        Resource.USERS: {Access.READ: RowScope.OWN},
        Resource.TEMPLATES: {Access.READ: RowScope.AGENCY},
        Resource.EMAIL_ACCOUNTS: {Access.READ: RowScope.OWN, Access.WRITE: RowScope.OWN},
        Resource.CAMPAIGNS: {Access.READ: RowScope.AGENCY},
        Resource.TICKETS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.KNOWLEDGE_BASE: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
    },
    # Marketing targets campaigns at the whole base and brings in its own contacts.
    Role.MARKETING: {
        Resource.SALES_RECORDS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.OWN},
        Resource.USERS: {Access.READ: RowScope.OWN},
        Resource.TEMPLATES: {Access.READ: RowScope.AGENCY},
        Resource.BROADCASTS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.EMAIL_ACCOUNTS: {Access.READ: RowScope.OWN, Access.WRITE: RowScope.OWN},
        Resource.CAMPAIGNS: {Access.READ: RowScope.AGENCY, Access.WRITE: RowScope.AGENCY},
        Resource.IMPORTS: {Access.READ: RowScope.OWN, Access.WRITE: RowScope.OWN},
    },
}


def row_scope(roles: frozenset[Role], resource: Resource, access: Access) -> RowScope:
    """The widest scope any of the roles grants (NONE if none grants any)."""
    return max(
        (ROW_SCOPES[role].get(resource, {}).get(access, RowScope.NONE) for role in roles),
        default=RowScope.NONE,
    )
