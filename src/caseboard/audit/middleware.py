from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from caseboard.audit.context import RequestOrigin, current_origin


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # REMOTE_ADDR is the peer; behind a proxy, prod settings make the proxy set it right.
        origin = RequestOrigin(
            client_address=request.META.get("REMOTE_ADDR", "") or "unknown",
            path=request.get_full_path()[:500],
        )
        token = current_origin.set(origin)
        try:
            return self.get_response(request)
        finally:
            current_origin.reset(token)
