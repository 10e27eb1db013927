"""Time per counted request against the number of clients the in-process limit store holds.

    .venv/bin/python bench/limit_store.py [--sizes 1000,10000,50000,200000]

For each size, fills a store with that many clients' request counters (one hit each, as
:class:`cms.web.ratelimit.Limit` counts them), then times requests of clients already known:
each is ``Limit.take`` (a hit, then the window for the headers) followed by one turn of the
event loop, where a real request would wait for I/O and where the library's store runs the
sweep it started. Both stores: ``limits.aio.storage.MemoryStorage`` and ours.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import tracemalloc

from limits.aio.storage import MemoryStorage, Storage

from cms.limit_store import LimitStore
from cms.limit_store.memory import BoundedMemoryStorage
from cms.web.ratelimit import Limit


async def per_request(storage: Storage, clients: int, budget: float = 2.0) -> float:
    """Seconds per counted request with ``clients`` counters held."""
    store = LimitStore()
    store.storage = storage
    limit = Limit(store, 1_000_000, name="requests")
    for n in range(clients):
        await limit.take(f"2001:db8:{n >> 16:x}:{n & 0xFFFF:x}::/64")
    await asyncio.sleep(0)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < budget or done < 20:
        await limit.take(f"2001:db8:0:{done % clients:x}::/64")
        await asyncio.sleep(0)
        done += 1
    return (time.perf_counter() - started) / done


def bytes_per_key(clients: int) -> float:
    """Memory our store holds per client counter (tracemalloc)."""

    async def fill() -> Storage:
        limit = Limit(LimitStore(), 1_000_000, name="requests")
        for n in range(clients):
            await limit.take(f"2001:db8:{n >> 16:x}:{n & 0xFFFF:x}::/64")
        return limit.limiter.storage

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    storage = asyncio.run(fill())
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert isinstance(storage, BoundedMemoryStorage)
    assert len(storage) == clients
    return held / clients


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000,200000")
    args = parser.parse_args()
    print(f"{'clients':>8} {'library ms':>11} {'bounded ms':>11}")
    for clients in (int(size) for size in args.sizes.split(",")):
        library = asyncio.run(per_request(MemoryStorage(), clients))
        bounded = asyncio.run(per_request(BoundedMemoryStorage(), clients))
        print(f"{clients:>8} {library * 1000:>11.3f} {bounded * 1000:>11.3f}", flush=True)
    print(f"bounded store: {bytes_per_key(100_000):.0f} bytes per client counter")


if __name__ == "__main__":
    main()
