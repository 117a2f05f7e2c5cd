"""The per-request context, built once per request by the app and read by every resolver."""

from __future__ import annotations

from dataclasses import dataclass

from domain.actors import Actor


@dataclass(slots=True)
class RequestContext:
    actor: Actor
    request_id: str
