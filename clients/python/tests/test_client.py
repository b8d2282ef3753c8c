"""The client against a real `detour serve` and real lab origins on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from pathlib import Path
from typing import Dict

import pytest

from detour_client import (
    AsyncDetour,
    BadRequest,
    Blocked,
    ContentInvalid,
    Detour,
    DetourError,
    DownloadFailed,
    Result,
    ServiceUnavailable,
    TooLarge,
    Unauthorized,
    UrlExpired,
    error_from_response,
)


def png(lab: Dict[str, str]) -> bytes:
    return base64.b64decode(lab["png"])


def test_health_and_detect(serve, lab):
    with Detour(serve.url) as detour:
        assert detour.health() == {"ok": True}
        report = detour.detect()
        assert "direct" in report["plan"]
        assert report["proxy"]["source"] == "none"


def test_fetch_reports_how_and_a_repeat_is_a_cache_hit(serve, lab):
    url = f"{lab['https']}/image.png?n=py-fetch"
    with Detour(serve.url) as detour:
        first = detour.fetch(url)
        assert isinstance(first, Result)
        assert first.body == png(lab)
        assert first.sha256 == lab["pngSha256"]
        assert first.content_type == "image/png"
        assert first.format == "png"
        assert first.strategy == "direct"
        assert first.degraded is False and first.from_cache is False
        assert first.attempts[0]["strategy"] == "direct" and first.attempts[0]["outcome"] == "ok"
        # Every planned strategy is listed: those after the winner as skipped, with why (D83).
        rest = first.attempts[1:]
        assert rest and all(a["outcome"] == "skipped" for a in rest)
        assert {a["message"] for a in rest} == {"not needed: direct succeeded"}
        assert detour.detect()["plan"] == [a["strategy"] for a in first.attempts]
        again = detour.fetch(url)
        assert again.from_cache is True
        assert again.body == first.body
        # A cache hit planned nothing: one row says where the bytes came from.
        assert [(a["strategy"], a["outcome"]) for a in again.attempts] == [("cache", "ok")]


def test_a_rescue_is_reported_in_the_attempts(serve, lab):
    with Detour(serve.url) as detour:
        result = detour.fetch(f"{lab['sha1']}/image.png?n=py-rescue")
    assert result.body == png(lab)
    assert result.strategy == "tls-relaxed"
    assert [a["outcome"] for a in result.attempts][0] == "failed"


def test_insecure_and_downgraded_are_reported_and_the_cache_keeps_insecure(servers, lab, tmp_path: Path):
    with Detour(servers["relaxed"].url) as detour:
        plain = detour.fetch(f"{lab['https']}/image.png?n=py-flags-plain")
        assert (plain.insecure, plain.downgraded, plain.degraded) == (False, False, False)

        down_url = f"{lab['downgradeHttps']}/image.png?n=py-flags-down"
        down = detour.fetch(down_url)
        assert down.body == png(lab)
        assert down.strategy == "http-downgrade"
        assert (down.downgraded, down.insecure, down.from_cache) == (True, False, False)
        # A body that came over plain http never fills an https entry (issue 22): fetched again.
        again = detour.fetch(down_url)
        assert (again.downgraded, again.from_cache) == (True, False)

        insecure_url = f"{lab['selfSigned']}/image.png?n=py-flags-insecure"
        unchecked = detour.fetch(insecure_url)
        assert (unchecked.insecure, unchecked.downgraded, unchecked.from_cache) == (True, False, False)
        saved = detour.save(insecure_url, tmp_path / "unchecked.png")
        assert (saved.insecure, saved.from_cache) == (True, True)


def test_failures_raise_by_class(serve, lab):
    with Detour(serve.url) as detour:
        with pytest.raises(ContentInvalid) as invalid:
            detour.fetch(f"{lab['https']}/html", expect="image")
        assert invalid.value.failure_class == "content-invalid"
        assert invalid.value.status == 422
        assert invalid.value.attempts

        with pytest.raises(TooLarge) as large:
            detour.fetch(f"{lab['https']}/big?bytes=100000", expect="any", max_bytes=1000)
        assert large.value.code.startswith("DETOUR_TOO_LARGE") or large.value.failure_class == "too-large"

        with pytest.raises(DownloadFailed) as failed:
            detour.fetch("http://127.0.0.1:9/image.png")  # discard port: nothing listens
        assert failed.value.failure_class == "connect-refused"
        assert failed.value.attempts and all(a["outcome"] != "ok" for a in failed.value.attempts)

        with pytest.raises(DownloadFailed) as slow:
            detour.fetch(f"{lab['https']}/stall-after-headers", timeout=0.6)
        assert slow.value.failure_class == "timeout"

        with pytest.raises(BadRequest):
            detour.fetch("ftp://example.com/a.png")
        with pytest.raises(BadRequest):
            detour.fetch(f"{lab['https']}/image.png", expect="sound")


def test_the_message_is_the_most_telling_failure_not_the_placeholders(servers, lab):
    # The origin answers 503; the placeholder cannot have the expected size. The exception tells the
    # server's failure (core's one rule), with the status that goes with it.
    with Detour(servers["placeholder"].url, token="py-secret") as detour:
        with pytest.raises(DownloadFailed) as failed:
            detour.fetch(f"{lab['https']}/status/503?n=py-telling", expected_bytes=12345)
    assert failed.value.status == 502
    assert (failed.value.failure_class, failed.value.code) == ("http-status", "HTTP_503")
    assert "HTTP 503" in failed.value.message and "SIZE_MISMATCH" not in str(failed.value)
    assert [a["strategy"] for a in failed.value.attempts if a["outcome"] == "failed"][-1] == "placeholder"


def test_private_targets_are_blocked_unless_the_service_allows_them(servers, lab):
    with Detour(servers["strict"].url) as detour:
        with pytest.raises(Blocked) as blocked:
            detour.fetch(f"{lab['https']}/image.png")
    assert blocked.value.failure_class == "blocked"
    assert isinstance(blocked.value, DetourError)


def test_token_and_degraded_placeholder(servers, lab):
    service = servers["placeholder"]
    with Detour(service.url) as anonymous:
        assert anonymous.health() == {"ok": True}  # no token needed
        with pytest.raises(Unauthorized):
            anonymous.fetch(f"{lab['https']}/image.png")
    with Detour(service.url, token=service.token) as detour:
        stand_in = detour.fetch("http://127.0.0.1:9/image.png?n=py-degraded")
    assert stand_in.degraded is True
    assert stand_in.strategy == "placeholder"
    assert stand_in.body[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_is_streamed_and_atomic(serve, lab, tmp_path: Path):
    target = tmp_path / "a.bin"
    with Detour(serve.url) as detour:
        saved = detour.save(f"{lab['http']}/big?bytes=3000000", target, expect="any")
        assert saved.bytes == 3_000_000 == target.stat().st_size
        assert saved.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
        assert oct(target.stat().st_mode & 0o777) == "0o644"
        broken = tmp_path / "broken.png"
        with pytest.raises(DetourError):
            detour.save(f"{lab['http']}/reset-mid-body", broken, expect="any")
        with pytest.raises(ContentInvalid):
            detour.save(f"{lab['https']}/html", broken, expect="image")
    assert not broken.exists()
    assert sorted(os.listdir(tmp_path)) == ["a.bin"]  # no temporary file left behind


def test_async_client(serve, lab, tmp_path: Path):
    async def main() -> None:
        async with AsyncDetour(serve.url) as detour:
            assert await detour.health() == {"ok": True}
            results = await asyncio.gather(
                *(detour.fetch(f"{lab['https']}/image.png?n=py-async-{i}") for i in range(8))
            )
            assert all(r.body == png(lab) and not r.degraded for r in results)
            saved = await detour.save(f"{lab['https']}/image.png?n=py-async-save", tmp_path / "b.png")
            assert (tmp_path / "b.png").read_bytes() == png(lab)
            assert saved.strategy == "direct"
            with pytest.raises(ContentInvalid):
                await detour.fetch(f"{lab['https']}/html", expect="image")
            assert "plan" in await detour.detect()

    asyncio.run(main())


def test_an_unreachable_service_is_its_own_error(lab):
    with Detour("http://127.0.0.1:9") as detour:
        with pytest.raises(ServiceUnavailable):
            detour.fetch(f"{lab['https']}/image.png")


@pytest.mark.parametrize(
    "status,failure_class,kind",
    [
        (400, "blocked", BadRequest),
        (401, "blocked", Unauthorized),
        (403, "blocked", Blocked),
        (410, "url-expired", UrlExpired),
        (413, "too-large", TooLarge),
        (422, "content-invalid", ContentInvalid),
        (502, "tls-handshake", DownloadFailed),
        (504, "timeout", DownloadFailed),
        (503, "unknown", ServiceUnavailable),
    ],
)
def test_status_to_exception_table(status, failure_class, kind):
    # Pure mapping (410 needs core's url-expired class, which the QQ preset brings; see the README).
    error = error_from_response(status, {"ok": False, "url": "u", "attempts": [{"strategy": "direct"}],
                                         "error": {"failureClass": failure_class, "code": "C", "message": "m"}})
    assert type(error) is kind
    assert (error.failure_class, error.code, error.status, error.attempts) == (failure_class, "C", status,
                                                                               [{"strategy": "direct"}])
