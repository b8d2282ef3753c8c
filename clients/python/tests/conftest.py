"""Real servers for the client tests: the Detour lab (a node script) and `detour serve` (the built CLI)."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

REPO = Path(__file__).resolve().parents[3]
DETOUR_BIN = REPO / "node_modules" / ".bin" / "detour"
LAB_SCRIPT = Path(__file__).with_name("lab.mjs")


@dataclass
class Serve:
    url: str
    process: "subprocess.Popen[str]"
    token: "str | None" = None


def _read_line(process: "subprocess.Popen[str]", stream_name: str, pattern: "re.Pattern[str]", timeout: float) -> str:
    stream = getattr(process, stream_name)
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}: {seen}{stream.read()}")
        ready, _, _ = select.select([stream], [], [], 0.2)
        if ready:
            line = stream.readline()
            seen += line
            if pattern.search(line):
                return line
    process.kill()
    raise RuntimeError(f"no {pattern.pattern!r} within {timeout} s: {seen}")


@pytest.fixture(scope="session")
def lab() -> Iterator[Dict[str, str]]:
    if not DETOUR_BIN.exists():
        pytest.fail(f"{DETOUR_BIN} is missing: run `npx -y pnpm@10 install && npx -y pnpm@10 build` first")
    process = subprocess.Popen(["node", str(LAB_SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = _read_line(process, "stdout", re.compile(r"^\{"), 60)
    yield json.loads(line)
    assert process.stdin is not None
    process.stdin.close()
    process.wait(timeout=30)


def _start(lab: Dict[str, str], args: List[str], token: "str | None" = None,
           prefix: "List[str] | None" = None) -> Serve:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root"),
           "NODE_EXTRA_CA_CERTS": lab["caPath"]}
    if token:
        env["DETOUR_TOKEN"] = token
    process = subprocess.Popen([*(prefix or []), str(DETOUR_BIN), "serve", "--port", "0", "--no-proxy", *args],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env=env)
    line = _read_line(process, "stderr", re.compile(r"listening on (http://\S+)"), 60)
    match = re.search(r"listening on (http://\S+)", line)
    assert match
    return Serve(url=match.group(1), process=process, token=token)


def _stop(serve: Serve) -> None:
    serve.process.terminate()
    assert serve.process.wait(timeout=30) == 0  # SIGTERM: graceful, exit 0


@pytest.fixture(scope="session")
def servers(lab: Dict[str, str]) -> Iterator[Dict[str, Serve]]:
    """Four services started together: plain, with the placeholder and a token, strict (no private
    targets), and relaxed (downgrade and unchecked certificates allowed for localhost)."""
    started: Dict[str, Serve] = {}
    try:
        started["plain"] = _start(lab, ["--allow-private"])
        started["placeholder"] = _start(lab, ["--allow-private", "--placeholder"], token="py-secret")
        started["strict"] = _start(lab, [])
        started["relaxed"] = _start(lab, ["--allow-private", "--allow-downgrade", "localhost",
                                          "--insecure-host", "localhost"])
        yield started
    finally:
        for serve in started.values():
            _stop(serve)


@pytest.fixture(scope="session")
def serve(servers: Dict[str, Serve]) -> Serve:
    return servers["plain"]


@pytest.fixture(scope="session")
def twin_serve(lab: Dict[str, Any]) -> Iterator[Serve]:
    """`detour serve` in a mount namespace where Tencent's names are 127.0.0.1 (the lab's Tencent twin)."""
    if not lab.get("twinServe"):
        pytest.skip(f"no private mount namespace here: {lab.get('twinServeSkip')}")
    serve = _start(lab, ["--allow-private"], prefix=list(lab["twinServe"]))
    try:
        yield serve
    finally:
        _stop(serve)
