"""Errors a care manager can act on in the case-conference area."""

from __future__ import annotations

from caseboard.care.errors import CareError


class ConferenceError(CareError):
    """A request about high-risk lists or conferences that cannot be carried out, in plain
    words. A CareError, so forms show it by field and the API answers 400 like care's."""
