"""Why ``_transport/deadline.py`` exists: the per-event cost of a stream deadline, three ways, interleaved runs.

A stream's idle deadline moves on every event. Measured per event (median of ``--runs`` interleaved runs, spread):
the client's ``Deadline`` (``pause``/``move``: float assignments), one ``asyncio.timeout_at`` entered and left per
read, and one ``asyncio.timeout`` rescheduled per event — each around the same ``await`` of a ready result.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from tekton_llm_client._transport.deadline import deadline


async def _ready() -> int:
    return 1


async def bare(n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await _ready()
    return time.perf_counter() - start


async def client_deadline(n: int) -> float:
    start = time.perf_counter()
    async with deadline(30.0) as dl:
        for _ in range(n):
            await _ready()
            dl.pause()
            dl.move(30.0)
    return time.perf_counter() - start


async def timeout_per_read(n: int) -> float:
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    for _ in range(n):
        async with asyncio.timeout_at(loop.time() + 30.0):
            await _ready()
    return time.perf_counter() - start


async def rescheduled(n: int) -> float:
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    async with asyncio.timeout(30.0) as cm:
        for _ in range(n):
            await _ready()
            cm.reschedule(None)  # paused while the consumer holds the event
            cm.reschedule(loop.time() + 30.0)
    return time.perf_counter() - start


async def main(runs: int, events: int) -> None:
    kinds = {"bare await": bare, "Deadline (client)": client_deadline}
    if sys.version_info >= (3, 11):  # asyncio.timeout is 3.11+
        kinds.update({"asyncio.timeout_at per read": timeout_per_read, "asyncio.timeout rescheduled": rescheduled})
    samples: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(runs):
        for name, fn in kinds.items():
            samples[name].append((await fn(events)) / events * 1e6)
    print(f"\n## Stream deadline cost per event ({runs} interleaved runs of {events:,} events; median, min–max)\n")
    print("| deadline | µs per event |")
    print("|---|---|")
    for name, values in samples.items():
        print(f"| {name} | {statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f}) |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--events", type=int, default=50_000)
    args, _ = parser.parse_known_args()
    asyncio.run(main(args.runs, args.events))
