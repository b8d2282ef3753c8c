"""``convert="wav"`` through a real `detour serve`: the lab's Tencent twin serves a real SILK clip (a
3 s tone encoded with the SILK encoder) as ``audio/amr``; the client gets a WAV of that length."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import wave
from pathlib import Path
from typing import Any, Dict

import pytest

from detour_client import AsyncDetour, BadRequest, ContentInvalid, Detour


def _wav(body: bytes) -> Dict[str, int]:
    """The WAV's own header, read by Python's wave module."""
    with wave.open(io.BytesIO(body)) as w:
        return {"rate": w.getframerate(), "channels": w.getnchannels(), "width": w.getsampwidth(),
                "ms": round(w.getnframes() * 1000 / w.getframerate())}


def _close_to(ms: int, expected: int) -> bool:
    return abs(ms - expected) / expected < 0.05


def test_fetch_convert_wav(twin_serve, lab: Dict[str, Any]) -> None:
    with Detour(twin_serve.url) as detour:
        result = detour.fetch(lab["voiceUrl"], expect="audio", convert="wav", sample_rate=16000)
    info = _wav(result.body)
    assert info["rate"] == 16000 and info["channels"] == 1 and info["width"] == 2
    assert _close_to(info["ms"], lab["voiceMs"])
    assert result.format == "wav"
    assert result.content_type == "audio/wav"
    assert result.converted == {"from": "silk", "to": "wav", "durationMs": info["ms"], "sampleRate": 16000}
    assert result.sha256 == hashlib.sha256(result.body).hexdigest()


def test_without_convert_the_silk_bytes(twin_serve, lab: Dict[str, Any]) -> None:
    with Detour(twin_serve.url) as detour:
        result = detour.fetch(lab["voiceUrl"], expect="audio")
    assert result.format == "silk"
    assert result.converted is None
    assert result.sha256 == lab["voiceSha256"]


def test_save_and_async(twin_serve, lab: Dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "voice.wav"
    with Detour(twin_serve.url) as detour:
        saved = detour.save(lab["voiceUrl"], target, expect="audio", convert="wav")
    body = target.read_bytes()
    assert _wav(body)["rate"] == 24000 and _close_to(_wav(body)["ms"], lab["voiceMs"])
    assert saved.bytes == len(body) and saved.converted is not None and saved.converted["sampleRate"] == 24000

    async def run() -> bytes:
        async with AsyncDetour(twin_serve.url) as detour:
            return (await detour.fetch(lab["voiceUrl"], expect="audio", convert="wav", sample_rate=8000)).body

    assert _wav(asyncio.run(run()))["rate"] == 8000


def test_corrupt_clip_fails_and_leaves_no_file(twin_serve, lab: Dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "corrupt.wav"
    with Detour(twin_serve.url) as detour:
        with pytest.raises(ContentInvalid) as caught:
            detour.save(lab["corruptVoiceUrl"], target, expect="audio", convert="wav")
        assert caught.value.code == "DETOUR_DECODE_FAILED"
        with pytest.raises(BadRequest):
            detour.fetch(lab["voiceUrl"], expect="audio", convert="wav", sample_rate=22050)
    assert os.listdir(tmp_path) == []
