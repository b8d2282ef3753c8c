"""Failures of `detour serve`, as exceptions a bot can catch by kind."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Type


class DetourError(Exception):
    """A download (or a call to the service) failed.

    ``failure_class`` is Detour's class (``timeout``, ``tls-handshake``, ``blocked``, ...),
    ``code`` the raw code (``ECONNRESET``, ``DETOUR_CIRCUIT_OPEN``, ...), ``attempts`` what each
    strategy did (the same records as ``detour fetch --json``), ``status`` the service's HTTP status.
    """

    def __init__(
        self,
        message: str,
        *,
        failure_class: str = "unknown",
        code: str = "DETOUR_UNKNOWN",
        attempts: Optional[List[Dict[str, Any]]] = None,
        status: Optional[int] = None,
        url: Optional[str] = None,
        from_cache: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.failure_class = failure_class
        self.code = code
        self.attempts: List[Dict[str, Any]] = list(attempts or [])
        self.status = status
        self.url = url
        self.from_cache = from_cache

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.failure_class!r}, {self.code!r}, {self.message!r})"


class BadRequest(DetourError):
    """400: the request itself is wrong (unknown field, bad URL, unknown strategy)."""


class Unauthorized(DetourError):
    """401: missing or wrong token."""


class Blocked(DetourError):
    """403: refused by policy (private address without ``--allow-private``, ...)."""


class UrlExpired(DetourError):
    """410: the signed URL expired (QQ's ``rkey``): ask the platform for a fresh one."""


class TooLarge(DetourError):
    """413: larger than the limit."""


class ContentInvalid(DetourError):
    """422: not what was expected (HTML instead of an image, wrong length, hash mismatch)."""


class DownloadFailed(DetourError):
    """502/504: no strategy could get the file (unreachable, TLS broken, timeout, circuit open)."""


class ServiceUnavailable(DetourError):
    """The service itself could not be reached, or it is shutting down (503)."""


_BY_STATUS: Mapping[int, Type[DetourError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Blocked,
    410: UrlExpired,
    413: TooLarge,
    422: ContentInvalid,
    503: ServiceUnavailable,
}

_BY_CLASS: Mapping[str, Type[DetourError]] = {
    "blocked": Blocked,
    "url-expired": UrlExpired,
    "too-large": TooLarge,
    "content-invalid": ContentInvalid,
}


def error_from_response(status: int, body: Any) -> DetourError:
    """The exception for a failed ``/v1/fetch`` answer (its JSON body already parsed, or not JSON)."""
    data: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    error: Mapping[str, Any] = data.get("error") if isinstance(data.get("error"), Mapping) else {}  # type: ignore[assignment]
    failure_class = str(error.get("failureClass") or "unknown")
    kind = _BY_STATUS.get(status) or _BY_CLASS.get(failure_class) or DownloadFailed
    if status == 400:
        kind = BadRequest  # a usage error carries failureClass "blocked"; the status says what it is
    attempts = data.get("attempts")
    return kind(
        str(error.get("message") or f"detour serve answered HTTP {status}"),
        failure_class=failure_class,
        code=str(error.get("code") or f"HTTP_{status}"),
        attempts=attempts if isinstance(attempts, list) else [],
        status=status,
        url=data.get("url") if isinstance(data.get("url"), str) else None,
        from_cache=bool(data.get("fromCache")),
    )
