"""``convert="wav"`` and ``convert="mp3"`` through a real `detour serve`: the lab's Tencent twin serves a
real SILK clip (a 3 s tone encoded with the SILK encoder) as ``audio/amr``; the client gets a WAV (read
by Python's wave module) or an MP3 (its frame headers walked here) of that length."""

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


_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_MP3_KBPS_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_KBPS_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)


def _mp3(body: bytes) -> Dict[str, Any]:
    """Walk every MPEG Layer III frame header from the first byte to the last (a Xing/Info frame,
    which holds no audio, is not counted): version, rate, channels and length."""
    at, frames, first = 0, 0, None
    while at < len(body):
        header = int.from_bytes(body[at:at + 4], "big")
        assert header >> 21 == 0x7FF, f"no frame sync at byte {at}"
        version = (header >> 19) & 3
        assert version != 1 and (header >> 17) & 3 == 1, f"not MPEG Layer III at byte {at}"
        rate = _MP3_RATES[version][(header >> 10) & 3]
        kbps = (_MP3_KBPS_V1 if version == 3 else _MP3_KBPS_V2)[(header >> 12) & 15]
        per_frame = 1152 if version == 3 else 576
        size = per_frame // 8 * kbps * 1000 // rate + ((header >> 9) & 1)
        mono = (header >> 6) & 3 == 3
        if first is None:
            first = {"version": {3: "1", 2: "2", 0: "2.5"}[version], "rate": rate, "mono": mono,
                     "per_frame": per_frame}
            side = (17 if mono else 32) if version == 3 else (9 if mono else 17)
            if body[at + 4 + side:at + 8 + side] not in (b"Xing", b"Info"):
                frames += 1
        else:
            assert rate == first["rate"], f"the rate changes at byte {at}"
            frames += 1
        assert at + size <= len(body), f"the frame at byte {at} is cut short"
        at += size
    assert first is not None, "no frame"
    return {**first, "frames": frames, "ms": round(frames * first["per_frame"] * 1000 / first["rate"])}


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


def test_fetch_and_save_convert_mp3(twin_serve, lab: Dict[str, Any], tmp_path: Path) -> None:
    with Detour(twin_serve.url) as detour:
        result = detour.fetch(lab["voiceUrl"], expect="audio", convert="mp3")
        target = tmp_path / "voice.mp3"
        saved = detour.save(lab["voiceUrl"], target, expect="audio", convert="mp3", sample_rate=48000)
        with pytest.raises(ContentInvalid) as caught:
            detour.save(lab["corruptVoiceUrl"], tmp_path / "corrupt.mp3", expect="audio", convert="mp3")
        assert caught.value.code == "DETOUR_DECODE_FAILED"
    info = _mp3(result.body)
    assert info["version"] == "2" and info["rate"] == 24000 and info["mono"]
    assert _close_to(info["ms"], lab["voiceMs"])
    assert result.format == "mp3"
    assert result.content_type == "audio/mpeg"
    assert result.converted == {"from": "silk", "to": "mp3", "durationMs": info["ms"], "sampleRate": 24000}
    assert result.sha256 == hashlib.sha256(result.body).hexdigest()
    body = target.read_bytes()
    assert _mp3(body)["version"] == "1" and _mp3(body)["rate"] == 48000
    assert _close_to(_mp3(body)["ms"], lab["voiceMs"])
    assert saved.bytes == len(body) and saved.sha256 == hashlib.sha256(body).hexdigest()
    assert saved.converted is not None and saved.converted["to"] == "mp3"
    assert os.listdir(tmp_path) == ["voice.mp3"]
