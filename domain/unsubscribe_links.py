"""Unsubscribe links (`domain.signed_links`, purpose `unsubscribe`): each names one message, and
its holder may change the consent of that message's recipient."""

from __future__ import annotations

from datetime import datetime

from domain.signed_links import InvalidLink, LinkConfig, LinkPurpose, sign, subject_of


def link_token(config: LinkConfig, message_id: int, now: datetime | None = None) -> str:
    return sign(config, LinkPurpose.UNSUBSCRIBE, message_id, now)


def message_of(config: LinkConfig, token: str) -> int:
    """The message id a valid unsubscribe link names; `InvalidLink` for anything else."""
    message_id = subject_of(config, LinkPurpose.UNSUBSCRIBE, token)
    if not isinstance(message_id, int):
        raise InvalidLink
    return message_id
