"""Errors a care manager can act on; views show them on the form, the API as 400/409."""

from __future__ import annotations


class CareError(Exception):
    """A request that cannot be carried out, with the reason in plain words."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleVersion(CareError):
    """Someone else changed the record after this user opened it; nothing was overwritten."""
