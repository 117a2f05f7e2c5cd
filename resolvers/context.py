"""The per-request context, built once per request by the app and read by every resolver."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from graphql import GraphQLError

from domain.actors import Actor
from domain.auth import AuthConfig
from domain.email_accounts import MailboxPolicy
from domain.live_events import LiveEvents
from domain.merges import DEFAULT_MERGE_UNDO_WINDOW
from domain.password_resets import ResetLimits
from domain.policies import AccessErrorCode
from domain.portal import PortalLimits
from domain.signed_links import LinkConfig
from domain.storage import Storage
from domain.webhook_deliveries import WebhookConfig
from resolvers.loaders import Loaders


@dataclass(slots=True)
class RequestContext:
    """`actor` is None for an anonymous request; `auth_problem` says why credentials failed."""

    request_id: str
    auth: AuthConfig
    client_address: str
    actor: Actor | None = None
    auth_problem: str | None = None
    connection_params: dict[str, Any] | None = None
    # The process's fan-out of committed events, for subscriptions (None: not served here).
    live_events: LiveEvents | None = None
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)
    # The operator's inbound mail domain (agencies' addresses are under it); empty: off.
    inbound_domain: str = ""
    # How connected mailboxes' passwords are sealed and where they may be (None: the
    # application secret, public hosts only).
    mailbox_policy: MailboxPolicy | None = None
    # Where document files and raw mail are kept (None: not served here), for erasures.
    storage: Storage | None = None
    # How password reset links are signed (None: resets are not offered here) and limited.
    links: LinkConfig | None = None
    reset_limits: ResetLimits = field(default_factory=ResetLimits)
    portal_limits: PortalLimits = field(default_factory=PortalLimits)
    # Where people outside the API reach the CRM (the base of referral links).
    public_url: str = ""
    # How long a merge can be undone (the `merge_undo_hours` setting).
    merge_undo_window: timedelta = DEFAULT_MERGE_UNDO_WINDOW
    _loaders: Loaders | None = None


def unauthenticated(context: RequestContext) -> GraphQLError:
    return GraphQLError(
        context.auth_problem or "Sign in first (Authorization: Bearer <token or API key>).",
        extensions={"code": AccessErrorCode.UNAUTHENTICATED.value},
    )


def actor_of(context: RequestContext) -> Actor:
    """The signed-in actor; resolvers of non-public fields never see an anonymous request."""
    if context.actor is None:
        raise unauthenticated(context)
    return context.actor


def loaders_of(context: RequestContext) -> Loaders:
    """The request's DataLoaders, made on first use (after authentication decided the actor)."""
    if context._loaders is None:
        context._loaders = Loaders(actor_of(context))
    return context._loaders
