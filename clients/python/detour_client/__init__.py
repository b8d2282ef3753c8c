"""Python client for ``detour serve``: ``Detour`` (sync) and ``AsyncDetour`` (asyncio)."""

from ._client import AsyncDetour, Detour, Result, SavedFile
from .errors import (
    BadRequest,
    Blocked,
    ContentInvalid,
    DetourError,
    DownloadFailed,
    ServiceUnavailable,
    TooLarge,
    Unauthorized,
    UrlExpired,
    error_from_response,
)

__all__ = [
    "AsyncDetour",
    "BadRequest",
    "Blocked",
    "ContentInvalid",
    "Detour",
    "DetourError",
    "DownloadFailed",
    "Result",
    "SavedFile",
    "ServiceUnavailable",
    "TooLarge",
    "Unauthorized",
    "UrlExpired",
    "error_from_response",
]

__version__ = "0.1.0"
