"""Figure 8: the Python client (clients/python) against `detour serve`: `total` fetches, `inflight`
at once (1: the sync `Detour`; more: `AsyncDetour` with asyncio), each timed. Prints one JSON line."""

import asyncio
import json
import sys
import time

from detour_client import AsyncDetour, Detour


def main() -> None:
    base, url, total, inflight = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    latencies, failed = [], 0
    started = time.perf_counter()
    if inflight <= 1:
        with Detour(base) as detour:
            for i in range(total):
                t = time.perf_counter()
                try:
                    detour.fetch(f"{url}&py={i}", expect="any")
                    latencies.append((time.perf_counter() - t) * 1000)
                except Exception:  # noqa: BLE001 - counted, reported by the figure
                    failed += 1
    else:
        async def run() -> None:
            nonlocal failed
            async with AsyncDetour(base) as detour:
                queue = iter(range(total))

                async def worker() -> None:
                    nonlocal failed
                    for i in queue:
                        t = time.perf_counter()
                        try:
                            await detour.fetch(f"{url}&py={i}", expect="any")
                            latencies.append((time.perf_counter() - t) * 1000)
                        except Exception:  # noqa: BLE001
                            failed += 1

                await asyncio.gather(*(worker() for _ in range(inflight)))

        asyncio.run(run())
    print(json.dumps({"latencies": latencies, "wallMs": (time.perf_counter() - started) * 1000,
                      "failed": failed}))


if __name__ == "__main__":
    main()
