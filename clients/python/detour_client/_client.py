"""Sync and async clients for ``detour serve`` (httpx)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import httpx

from ._files import Target
from .errors import ContentInvalid, DetourError, DownloadFailed, ServiceUnavailable, error_from_response

PathLike = Union[str, "os.PathLike[str]"]

#: Extra seconds the HTTP client waits beyond the download's own deadline (the service answers first).
_MARGIN_S = 5.0


@dataclass(frozen=True)
class Result:
    """A file downloaded through Detour, and how it was obtained."""

    body: bytes
    content_type: Optional[str]
    #: The media format core detected (``png``, ``jpeg``, ``silk``, ...), when the service reports one.
    format: Optional[str]
    #: The strategy that delivered: ``direct``, ``direct-bypass``, ``tls-relaxed``, ``curl``, ...
    strategy: str
    #: ``True``: a placeholder, not the real file. Show it, but do not store it as the real thing.
    degraded: bool
    from_cache: bool
    #: SHA-256 (hex) of ``body``, computed here and checked against the service's when it sent one.
    sha256: str
    attempts: List[Dict[str, Any]] = field(default_factory=list)
    #: With ``convert="wav"`` or ``"mp3"``: ``{"from": "silk", "to": "wav", "durationMs": ..., "sampleRate": ...}``
    #: (``body`` and ``sha256`` are then the converted file's); ``None`` when nothing was converted.
    converted: Optional[Dict[str, Any]] = None
    #: ``True``: a certificate was accepted without being checked (a host in ``--insecure-host``).
    insecure: bool = False
    #: ``True``: the bytes of an ``https`` URL came over plain ``http`` (a host in ``--allow-downgrade``).
    downgraded: bool = False


@dataclass(frozen=True)
class SavedFile:
    """A file written by ``save()``: like ``Result``, with the path instead of the body."""

    path: str
    bytes: int
    content_type: Optional[str]
    format: Optional[str]
    strategy: str
    degraded: bool
    from_cache: bool
    sha256: str
    attempts: List[Dict[str, Any]] = field(default_factory=list)
    converted: Optional[Dict[str, Any]] = None
    insecure: bool = False
    downgraded: bool = False


def _request_json(
    url: str,
    expect: str,
    expected_bytes: Optional[int],
    timeout: Optional[float],
    headers: Optional[Mapping[str, str]],
    max_bytes: Optional[int],
    strategies: Optional[Sequence[str]],
    convert: Optional[str] = None,
    sample_rate: Optional[int] = None,
) -> Dict[str, Any]:
    body: Dict[str, Any] = {"url": url, "expect": expect}
    if convert is not None:
        body["convert"] = convert
    if sample_rate is not None:
        body["sampleRate"] = int(sample_rate)
    if expected_bytes is not None:
        body["expectBytes"] = int(expected_bytes)
    if timeout is not None:
        body["timeoutMs"] = max(1, int(timeout * 1000))
    if headers:
        body["headers"] = dict(headers)
    if max_bytes is not None:
        body["maxBytes"] = int(max_bytes)
    if strategies:
        body["strategies"] = list(strategies)
    return body


def _http_timeout(timeout: Optional[float], default: Optional[float]) -> httpx.Timeout:
    if timeout is None and default is None:
        return httpx.Timeout(None, connect=10.0)
    return httpx.Timeout((timeout if timeout is not None else default) + _MARGIN_S, connect=10.0)  # type: ignore[operator]


def _parse_failure(response: httpx.Response, raw: bytes) -> DetourError:
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (ValueError, UnicodeDecodeError):
        body = None
    return error_from_response(response.status_code, body)


def _attempts(response: httpx.Response) -> List[Dict[str, Any]]:
    raw = response.headers.get("x-detour-attempts")
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _meta(response: httpx.Response) -> Dict[str, Any]:
    h = response.headers
    return {
        "content_type": h.get("content-type"),
        "format": h.get("x-detour-format"),
        "strategy": h.get("x-detour-strategy", "unknown"),
        "degraded": h.get("x-detour-degraded") == "true",
        "insecure": h.get("x-detour-insecure") == "true",
        "downgraded": h.get("x-detour-downgraded") == "true",
        "from_cache": h.get("x-detour-from-cache") == "true",
        "attempts": _attempts(response),
        "converted": _converted(response),
    }


def _converted(response: httpx.Response) -> Optional[Dict[str, Any]]:
    raw = response.headers.get("x-detour-converted")
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _check_body(response: httpx.Response, digest: str, size: int, url: str) -> None:
    """The service's hash (when it sent one up front) and length must match what arrived."""
    sent = response.headers.get("x-detour-sha256")
    if sent and sent.lower() != digest:
        raise ContentInvalid(
            f"SHA-256 mismatch: the service said {sent}, the body hashes to {digest}",
            failure_class="content-invalid", code="DETOUR_SHA256_MISMATCH", url=url,
        )
    length = response.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) != size:
        raise DownloadFailed(
            f"the body ended after {size} of {length} bytes",
            failure_class="connect-reset", code="DETOUR_INCOMPLETE", url=url,
        )


def _transport_error(error: Exception, url: str) -> DetourError:
    if isinstance(error, (httpx.RemoteProtocolError, httpx.ReadError)):
        # The service cut the body short: the download failed after it began (reset, too large mid-way).
        return DownloadFailed(
            f"the download broke off mid-body: {error}", failure_class="connect-reset",
            code="DETOUR_INCOMPLETE", url=url,
        )
    if isinstance(error, httpx.TimeoutException):
        return DownloadFailed(f"no answer from detour serve in time: {error}", failure_class="timeout",
                              code="DETOUR_CLIENT_TIMEOUT", url=url)
    return ServiceUnavailable(f"cannot reach detour serve: {error}", failure_class="unavailable",
                              code="DETOUR_SERVICE_UNREACHABLE", url=url)


def _open_deadline(timeout: Optional[float]) -> float:
    """How long to wait for a reader of a FIFO target: the download's deadline, else 30 s."""
    return timeout if timeout is not None else 30.0


def _headers(token: Optional[str]) -> Dict[str, str]:
    headers = {"user-agent": "detour-client/0.1"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return headers


class Detour:
    """A client of ``detour serve`` (``base_url`` like ``http://127.0.0.1:7070``).

    >>> with Detour("http://127.0.0.1:7070") as detour:
    ...     result = detour.fetch("https://example.com/a.png")
    """

    def __init__(self, base_url: str = "http://127.0.0.1:7070", token: Optional[str] = None,
                 *, timeout: Optional[float] = 60.0, client: Optional[httpx.Client] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._client = client or httpx.Client(headers=_headers(token))
        if client is not None and token:
            self._client.headers.update(_headers(token))
        self._owns = client is None

    def __enter__(self) -> "Detour":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns:
            self._client.close()

    def fetch(self, url: str, expect: str = "image", expected_bytes: Optional[int] = None,
              timeout: Optional[float] = None, *, headers: Optional[Mapping[str, str]] = None,
              max_bytes: Optional[int] = None, strategies: Optional[Sequence[str]] = None,
              convert: Optional[str] = None, sample_rate: Optional[int] = None) -> Result:
        """Download ``url`` into memory. Raises a ``DetourError`` subclass on failure."""
        payload = _request_json(url, expect, expected_bytes, timeout, headers, max_bytes, strategies,
                                convert, sample_rate)
        try:
            with self._client.stream("POST", f"{self.base_url}/v1/fetch", json=payload,
                                     timeout=_http_timeout(timeout, self._timeout)) as response:
                raw = response.read()
                if response.status_code != 200:
                    raise _parse_failure(response, raw)
        except httpx.HTTPError as error:
            raise _transport_error(error, url) from error
        digest = hashlib.sha256(raw).hexdigest()
        _check_body(response, digest, len(raw), url)
        return Result(body=raw, sha256=digest, **_meta(response))

    def save(self, url: str, path: PathLike, expect: str = "image", expected_bytes: Optional[int] = None,
             timeout: Optional[float] = None, *, headers: Optional[Mapping[str, str]] = None,
             max_bytes: Optional[int] = None, strategies: Optional[Sequence[str]] = None,
             convert: Optional[str] = None, sample_rate: Optional[int] = None) -> SavedFile:
        """Download ``url`` to ``path``, streamed, with the CLI's file rules: a regular file is
        replaced atomically (temporary file beside it, renamed only when the whole body arrived and
        checked out; mode and owner kept; through a symlink its target is replaced and the link
        kept); a FIFO or a device is written into; ``''`` is refused. On failure nothing is left."""
        target = Target(os.fspath(path))
        payload = _request_json(url, expect, expected_bytes, timeout, headers, max_bytes, strategies,
                                convert, sample_rate)
        try:
            try:
                with self._client.stream(
                    "POST", f"{self.base_url}/v1/fetch", json=payload,
                    timeout=_http_timeout(timeout, self._timeout),
                ) as response:
                    if response.status_code != 200:
                        raise _parse_failure(response, response.read())
                    digest, size = hashlib.sha256(), 0
                    with target.open(_open_deadline(timeout)) as out:
                        for chunk in response.iter_bytes():
                            out.write(chunk)
                            digest.update(chunk)
                            size += len(chunk)
                        target.finish_writing(out)
            except httpx.HTTPError as error:
                raise _transport_error(error, url) from error
            hexdigest = digest.hexdigest()
            _check_body(response, hexdigest, size, url)
            target.commit()
        except BaseException:
            target.discard()
            raise
        return SavedFile(path=target.path, bytes=size, sha256=hexdigest, **_meta(response))

    def detect(self) -> Dict[str, Any]:
        """The service's view of the network (``detour detect --json``)."""
        return self._get_json("/v1/detect")

    def health(self) -> Dict[str, Any]:
        """``{"ok": True}`` when the service is up (no token needed)."""
        return self._get_json("/healthz")

    def _get_json(self, route: str) -> Dict[str, Any]:
        try:
            response = self._client.get(f"{self.base_url}{route}", timeout=httpx.Timeout(30.0))
        except httpx.HTTPError as error:
            raise _transport_error(error, route) from error
        if response.status_code != 200:
            raise _parse_failure(response, response.content)
        return response.json()


class AsyncDetour:
    """The asyncio client (same methods as ``Detour``, awaited).

    >>> async with AsyncDetour("http://127.0.0.1:7070") as detour:
    ...     result = await detour.fetch("https://example.com/a.png")
    """

    def __init__(self, base_url: str = "http://127.0.0.1:7070", token: Optional[str] = None,
                 *, timeout: Optional[float] = 60.0, client: Optional[httpx.AsyncClient] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._client = client or httpx.AsyncClient(headers=_headers(token))
        if client is not None and token:
            self._client.headers.update(_headers(token))
        self._owns = client is None

    async def __aenter__(self) -> "AsyncDetour":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns:
            await self._client.aclose()

    async def fetch(self, url: str, expect: str = "image", expected_bytes: Optional[int] = None,
                    timeout: Optional[float] = None, *, headers: Optional[Mapping[str, str]] = None,
                    max_bytes: Optional[int] = None, strategies: Optional[Sequence[str]] = None,
                    convert: Optional[str] = None, sample_rate: Optional[int] = None) -> Result:
        payload = _request_json(url, expect, expected_bytes, timeout, headers, max_bytes, strategies,
                                convert, sample_rate)
        try:
            async with self._client.stream("POST", f"{self.base_url}/v1/fetch", json=payload,
                                           timeout=_http_timeout(timeout, self._timeout)) as response:
                raw = await response.aread()
                if response.status_code != 200:
                    raise _parse_failure(response, raw)
        except httpx.HTTPError as error:
            raise _transport_error(error, url) from error
        digest = hashlib.sha256(raw).hexdigest()
        _check_body(response, digest, len(raw), url)
        return Result(body=raw, sha256=digest, **_meta(response))

    async def save(self, url: str, path: PathLike, expect: str = "image", expected_bytes: Optional[int] = None,
                   timeout: Optional[float] = None, *, headers: Optional[Mapping[str, str]] = None,
                   max_bytes: Optional[int] = None, strategies: Optional[Sequence[str]] = None,
                   convert: Optional[str] = None, sample_rate: Optional[int] = None) -> SavedFile:
        target = Target(os.fspath(path))
        payload = _request_json(url, expect, expected_bytes, timeout, headers, max_bytes, strategies,
                                convert, sample_rate)
        try:
            try:
                async with self._client.stream(
                    "POST", f"{self.base_url}/v1/fetch", json=payload,
                    timeout=_http_timeout(timeout, self._timeout),
                ) as response:
                    if response.status_code != 200:
                        raise _parse_failure(response, await response.aread())
                    digest, size = hashlib.sha256(), 0
                    with await target.aopen(_open_deadline(timeout)) as out:
                        async for chunk in response.aiter_bytes():
                            out.write(chunk)
                            digest.update(chunk)
                            size += len(chunk)
                        target.finish_writing(out)
            except httpx.HTTPError as error:
                raise _transport_error(error, url) from error
            hexdigest = digest.hexdigest()
            _check_body(response, hexdigest, size, url)
            target.commit()
        except BaseException:
            target.discard()
            raise
        return SavedFile(path=target.path, bytes=size, sha256=hexdigest, **_meta(response))

    async def detect(self) -> Dict[str, Any]:
        return await self._get_json("/v1/detect")

    async def health(self) -> Dict[str, Any]:
        return await self._get_json("/healthz")

    async def _get_json(self, route: str) -> Dict[str, Any]:
        try:
            response = await self._client.get(f"{self.base_url}{route}", timeout=httpx.Timeout(30.0))
        except httpx.HTTPError as error:
            raise _transport_error(error, route) from error
        if response.status_code != 200:
            raise _parse_failure(response, response.content)
        return response.json()
