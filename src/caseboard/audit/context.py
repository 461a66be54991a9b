"""Where the current request came from, for audit events written deep inside actions."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestOrigin:
    client_address: str
    path: str


COMMAND_LINE = RequestOrigin(client_address="command line", path="")
current_origin: ContextVar[RequestOrigin] = ContextVar("current_origin", default=COMMAND_LINE)
