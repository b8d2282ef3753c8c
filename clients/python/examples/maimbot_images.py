"""MaiMBot-style image download, moved from aiohttp to `detour serve`.

Before (what MaiMBot-like bots do today; breaks behind Clash/mihomo with SSLV3_ALERT_HANDSHAKE_FAILURE):

    async def download_image(url: str) -> bytes | None:
        async with aiohttp.ClientSession() as session:
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=30)) as resp:
                if resp.status != 200:
                    return None
                return await resp.read()

After: one `detour serve` on the bot's machine (`detour serve --placeholder`), and

Run: `python examples/maimbot_images.py http://127.0.0.1:7070 'https://multimedia.nt.qq.com.cn/download?...'`
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Optional

from detour_client import AsyncDetour, DetourError, UrlExpired

log = logging.getLogger("bot.images")


async def download_image(detour: AsyncDetour, url: str, file_size: Optional[int] = None) -> Optional[bytes]:
    """The image bytes, or None. A placeholder (`degraded`) is shown but never stored as the real image."""
    try:
        result = await detour.fetch(url, expect="image", expected_bytes=file_size, timeout=30)
    except UrlExpired:
        log.info("image URL expired (rkey): ask the OneBot API for a fresh one")  # e.g. get_image
        return None
    except DetourError as error:
        log.warning("image download failed: %s %s (%d attempts)", error.failure_class, error.code,
                    len(error.attempts))
        return None
    if result.degraded:
        # Every strategy failed and the service answered with its stand-in: fine to show, wrong to
        # cache, describe or hash as the user's picture.
        log.warning("image unavailable, showing a placeholder (attempts: %s)",
                    [f"{a['strategy']}:{a['outcome']}" for a in result.attempts])
        return None
    log.info("image via %s%s, %d bytes", result.strategy, " (cache)" if result.from_cache else "",
             len(result.body))
    return result.body


async def main(base_url: str, url: str) -> int:
    logging.basicConfig(level=logging.INFO)
    async with AsyncDetour(base_url) as detour:
        body = await download_image(detour, url)
    return 0 if body is not None else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
