"""Client benchmarks P2–P4, each a ratio against a named baseline measured in the same run.

P2  2,000 non-streaming calls: TektonLLMClient.generate_text vs raw httpx.AsyncClient posts of the same body
    (median latency, sequential; throughput at concurrency 50).
P3  one 10,000-chunk SSE stream: the client's TextStream vs raw httpx ``aiter_lines``.
P4  ``import tekton_llm_client`` (and the heavier first uses) in a fresh interpreter.

The Rhetor test server runs as a separate process so that it does not share the client's GIL.
Targets: P2 <= 1.10x latency and >= 0.95x throughput, P3 <= 1.3x, P4 <= 120 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from tekton_llm_client import TektonLLMClient

BODY = {"messages": [{"role": "user", "content": "benchmark"}], "stream": False}


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tekton_llm_client.testing", "--profile", "v1", "--port", "0", "--chunk-delay", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, info["url"]


async def timed(call: Callable[[], Awaitable[Any]], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return samples


async def throughput(call: Callable[[], Awaitable[Any]], n: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await call()

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return n / (time.perf_counter() - start)


async def p2(url: str, calls: int) -> list[tuple[str, str, str, str]]:
    async with httpx.AsyncClient(timeout=30) as raw, TektonLLMClient("bench", rhetor_url=url, api="v1",
                                                                      transport="http", use_fallback=False) as client:
        async def raw_call() -> str:
            response = await raw.post(url + "/api/v1/chat", json=BODY)
            response.raise_for_status()
            return str(response.json()["content"])

        async def client_call() -> str:
            return (await client.generate_text("benchmark")).content

        for _ in range(50):  # warm both pools
            await raw_call()
            await client_call()
        raw_lat: list[float] = []
        client_lat: list[float] = []
        for _ in range(calls):  # strictly alternating, so machine noise hits both sides alike
            raw_lat += await timed(raw_call, 1)
            client_lat += await timed(client_call, 1)
        raw_rounds: list[float] = []
        client_rounds: list[float] = []
        for _ in range(5):
            raw_rounds.append(await throughput(raw_call, calls // 2, 50))
            client_rounds.append(await throughput(client_call, calls // 2, 50))
        raw_tp, client_tp = statistics.median(raw_rounds), statistics.median(client_rounds)
    raw_med, client_med = statistics.median(raw_lat), statistics.median(client_lat)
    return [
        ("P2 median latency", f"{raw_med * 1e3:.3f} ms", f"{client_med * 1e3:.3f} ms",
         f"{client_med / raw_med:.3f}x (target <= 1.10x)"),
        ("P2 throughput @50", f"{raw_tp:.0f} req/s", f"{client_tp:.0f} req/s",
         f"{client_tp / raw_tp:.3f}x (target >= 0.95x)"),
    ]


async def p3(url: str, chunks: int) -> list[tuple[str, str, str, str]]:
    async with httpx.AsyncClient(timeout=60) as raw:
        await raw.post(url + "/_testing/faults", json={"reply": "x" * (chunks * 10), "chunk_size": 10,
                                                       "chunk_delay": 0})
        body = {**BODY, "stream": True}

        async def raw_stream() -> int:
            n = 0
            async with raw.stream("POST", url + "/api/v1/chat/stream", json=body) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        n += 1
            return n

        async def raw_stream_parsed() -> int:
            n = 0
            async with raw.stream("POST", url + "/api/v1/chat/stream", json=body) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        n += len(json.loads(line[5:])["content"])
            return n

        async with TektonLLMClient("bench", rhetor_url=url, api="v1", transport="http", use_fallback=False,
                                   timeout=60) as client:
            async def client_stream() -> int:
                n = 0
                async for _chunk in client.generate_text("benchmark", streaming=True):
                    n += 1
                return n

            ws_client = TektonLLMClient("bench", rhetor_url=url, api="v1", transport="ws", use_fallback=False,
                                        timeout=60)

            async def ws_stream() -> int:
                n = 0
                async for _chunk in ws_client.generate_text("benchmark", streaming=True):
                    n += 1
                return n

            results: dict[str, list[float]] = {"raw": [], "parsed": [], "client": [], "ws": []}
            counts = {}
            for _ in range(3):
                for name, fn in (("raw", raw_stream), ("parsed", raw_stream_parsed), ("client", client_stream),
                                 ("ws", ws_stream)):
                    start = time.perf_counter()
                    counts[name] = await fn()
                    results[name].append(time.perf_counter() - start)
            await ws_client.aclose()
        await raw.post(url + "/_testing/reset")
    assert counts["raw"] >= chunks and counts["client"] > chunks and counts["ws"] > chunks, counts
    raw_t, parsed_t, client_t, ws_t = (statistics.median(results[k]) for k in ("raw", "parsed", "client", "ws"))
    return [
        (f"P3 {chunks:,}-chunk SSE stream", f"{raw_t * 1e3:.0f} ms (aiter_lines)", f"{client_t * 1e3:.0f} ms",
         f"{client_t / raw_t:.3f}x (target <= 1.3x)"),
        ("P3 (baseline also json-decodes)", f"{parsed_t * 1e3:.0f} ms", f"{client_t * 1e3:.0f} ms",
         f"{client_t / parsed_t:.3f}x"),
        ("P3 same stream over WebSocket", f"{client_t * 1e3:.0f} ms (client, HTTP SSE)", f"{ws_t * 1e3:.0f} ms",
         f"{ws_t / client_t:.3f}x (WS vs HTTP)"),
    ]


def p4(runs: int) -> list[tuple[str, str, str, str]]:
    def median_ms(code: str) -> float:
        samples = []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", f"import time; t=time.perf_counter(); {code}; print(time.perf_counter()-t)"],
                capture_output=True, text=True, check=True,
            )
            samples.append(float(out.stdout.strip()) * 1e3)
        return statistics.median(samples)

    bare = median_ms("import tekton_llm_client")
    cls = median_ms("from tekton_llm_client import TektonLLMClient")
    full = median_ms("from tekton_llm_client import TektonLLMClient; import tekton_llm_client._transport.http")
    httpx_only = median_ms("import httpx")
    return [
        ("P4 import tekton_llm_client", "-", f"{bare:.1f} ms", f"{bare / 120:.3f} of the 120 ms budget"),
        ("P4 from … import TektonLLMClient", "-", f"{cls:.1f} ms", "models + config (pydantic)"),
        ("P4 ready to send (with httpx)", f"{httpx_only:.1f} ms (import httpx)", f"{full:.1f} ms",
         f"{full / httpx_only:.2f}x of httpx alone"),
    ]


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    headers = ("benchmark", "baseline", "tekton-llm-client", "ratio")
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(4)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--import-runs", type=int, default=15)
    args = parser.parse_args()
    proc, url = start_server()
    try:
        rows = asyncio.run(p2(url, args.calls))
        rows += asyncio.run(p3(url, args.chunks))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    rows += p4(args.import_runs)
    print("\n## Client benchmarks (same run, same local Rhetor test server in its own process)\n")
    print_table(rows)


if __name__ == "__main__":
    main()
