"""Error codes every lifecycle may raise; each record's error enum includes them."""

from __future__ import annotations

from enum import StrEnum


class LifecycleErrorCode(StrEnum):
    INVALID_TRANSITION = "INVALID_TRANSITION"
    GUARD_FAILED = "GUARD_FAILED"
