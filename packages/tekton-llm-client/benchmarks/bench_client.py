"""Client benchmarks P2–P4: each figure is a ratio against a named baseline, as the median of interleaved runs.

P2  non-streaming calls: TektonLLMClient.generate_text vs raw httpx.AsyncClient posts of the same body
    (median latency, sequential, calls strictly alternating; throughput at concurrency 50, three alternating
    rounds per run).
P3  one 10,000-chunk SSE stream: the client's TextStream vs raw httpx ``aiter_lines``; the same stream over WS.
P4  ``import tekton_llm_client`` (and the heavier first uses) in a fresh interpreter.

Every figure is measured ``--runs`` times (default 5); the client and its baseline alternate within each run, so
machine noise hits both alike. The table gives the median ratio and its spread (min–max over the runs).
``--baseline-src DIR`` also measures another copy of the package (e.g. a ``git worktree`` of the previous commit,
``DIR`` being its ``src``), in its own process, alternating with this one run by run: the last column then
compares the two clients directly.

The Rhetor test server runs as a separate process so that it does not share the client's GIL.
Targets (medians): P2 <= 1.10x latency and >= 0.95x throughput, P3 <= 1.20x, P4 <= 120 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

BODY = {"messages": [{"role": "user", "content": "benchmark"}], "stream": False}
Call = Callable[[], Awaitable[Any]]


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tekton_llm_client.testing", "--profile", "v1", "--port", "0", "--chunk-delay", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, str(info["url"])


async def _latency(call: Call) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one call (CPU time ignores waiting for the server and most machine noise)."""
    start, cpu = time.perf_counter(), time.process_time()
    await call()
    return time.perf_counter() - start, time.process_time() - cpu


async def _throughput(call: Call, n: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await call()

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return n / (time.perf_counter() - start)


async def p2(url: str, calls: int) -> dict[str, float]:
    """One P2 run: median latencies (s) and throughputs (req/s) of raw httpx and the client."""
    import httpx
    from tekton_llm_client.client import TektonLLMClient

    async with (
        httpx.AsyncClient(timeout=30) as raw,
        TektonLLMClient("bench", rhetor_url=url, api="v1", transport="http", use_fallback=False) as client,
    ):

        async def raw_call() -> str:
            response = await raw.post(url + "/api/v1/chat", json=BODY)
            response.raise_for_status()
            return str(response.json()["content"])

        async def client_call() -> str:
            return (await client.generate_text("benchmark")).content

        for _ in range(50):  # warm both pools
            await raw_call()
            await client_call()
        raw_lat: list[tuple[float, float]] = []
        client_lat: list[tuple[float, float]] = []
        for _ in range(calls):
            raw_lat.append(await _latency(raw_call))
            client_lat.append(await _latency(client_call))
        raw_tp: list[float] = []
        client_tp: list[float] = []
        for _ in range(3):  # alternating rounds; the run's figure is their median
            raw_tp.append(await _throughput(raw_call, calls // 4, 50))
            client_tp.append(await _throughput(client_call, calls // 4, 50))
    return {
        "p2_raw_latency": statistics.median(t for t, _ in raw_lat),
        "p2_client_latency": statistics.median(t for t, _ in client_lat),
        "p2_raw_cpu": statistics.fmean(c for _, c in raw_lat),
        "p2_client_cpu": statistics.fmean(c for _, c in client_lat),
        "p2_raw_throughput": statistics.median(raw_tp),
        "p2_client_throughput": statistics.median(client_tp),
    }


async def p3(url: str, chunks: int) -> dict[str, float]:
    """One P3 run: seconds for the same stream read raw, through the client over HTTP SSE, and over WS."""
    import httpx
    from tekton_llm_client.client import TektonLLMClient

    body = {**BODY, "stream": True}
    async with httpx.AsyncClient(timeout=60) as raw:
        await raw.post(
            url + "/_testing/faults", json={"reply": "x" * (chunks * 10), "chunk_size": 10, "chunk_delay": 0}
        )

        async def raw_stream() -> int:
            n = 0
            async with raw.stream("POST", url + "/api/v1/chat/stream", json=body) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        n += 1
            return n

        async with (
            TektonLLMClient(
                "bench", rhetor_url=url, api="v1", transport="http", use_fallback=False, timeout=60
            ) as client,
            TektonLLMClient("bench", rhetor_url=url, api="v1", transport="ws", use_fallback=False, timeout=60) as ws,
        ):

            async def client_stream() -> int:
                return len([c async for c in client.generate_text("benchmark", streaming=True)])

            async def ws_stream() -> int:
                return len([c async for c in ws.generate_text("benchmark", streaming=True)])

            times: dict[str, float] = {}
            counts: dict[str, int] = {}
            for name, fn in (("p3_raw", raw_stream), ("p3_client", client_stream), ("p3_ws", ws_stream)):
                start, cpu = time.perf_counter(), time.process_time()
                counts[name] = await fn()
                times[name] = time.perf_counter() - start
                times[f"{name}_cpu"] = time.process_time() - cpu
        await raw.post(url + "/_testing/reset")
    assert counts["p3_raw"] >= chunks and counts["p3_client"] > chunks and counts["p3_ws"] > chunks, counts
    return times


def p4(runs: int) -> list[tuple[str, ...]]:
    def median_ms(code: str) -> tuple[float, float, float]:
        samples = []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", f"import time; t=time.perf_counter(); {code}; print(time.perf_counter()-t)"],
                capture_output=True,
                text=True,
                check=True,
            )
            samples.append(float(out.stdout.strip()) * 1e3)
        return statistics.median(samples), min(samples), max(samples)

    bare = median_ms("import tekton_llm_client")
    cls = median_ms("from tekton_llm_client import TektonLLMClient")
    full = median_ms("from tekton_llm_client import TektonLLMClient; import tekton_llm_client._transport.http")
    httpx_only = median_ms("import httpx")
    return [
        ("P4 import tekton_llm_client", "-", _ms(bare), f"{bare[0] / 120:.3f} of the 120 ms budget"),
        ("P4 from … import TektonLLMClient", "-", _ms(cls), "models + config (pydantic)"),
        (
            "P4 ready to send (with httpx)",
            f"{_ms(httpx_only)} (import httpx)",
            _ms(full),
            f"{full[0] / httpx_only[0]:.2f}x of httpx alone",
        ),
    ]


def _ms(sample: tuple[float, float, float]) -> str:
    return f"{sample[0]:.1f} ms ({sample[1]:.1f}–{sample[2]:.1f})"


# ------------------------------------------------------------------------------------------------- runs, table

FIGURES: tuple[tuple[str, str, str, bool, str], ...] = (
    # label, client key, baseline key, higher-is-better, target
    ("P2 median latency", "p2_client_latency", "p2_raw_latency", False, "<= 1.10x"),
    ("P2 throughput @50", "p2_client_throughput", "p2_raw_throughput", True, ">= 0.95x"),
    ("P3 10,000-chunk SSE stream", "p3_client", "p3_raw", False, "<= 1.20x"),
    ("P3 same stream over WebSocket", "p3_ws", "p3_raw", False, "(information)"),
    # CPU time of this process only: the client's own cost, without the wait for the server (less noisy).
    ("P2 CPU per call", "p2_client_cpu", "p2_raw_cpu", False, "(information)"),
    ("P3 CPU per stream", "p3_client_cpu", "p3_raw_cpu", False, "(information)"),
)


def one_run(url: str, calls: int, chunks: int) -> dict[str, float]:
    """Every P2/P3 figure once, in this process."""
    result = asyncio.run(p2(url, calls))
    result.update(asyncio.run(p3(url, chunks)))
    return result


def worker_run(url: str, calls: int, chunks: int, src: str | None) -> dict[str, float]:
    """One run in a fresh interpreter importing the package from ``src`` (``None``: this environment's)."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    out = subprocess.run(
        [sys.executable, __file__, "--worker", url, "--calls", str(calls), "--chunks", str(chunks)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f}x ({min(values):.3f}–{max(values):.3f})"


def _absolute(key: str, runs: list[dict[str, float]]) -> str:
    values = [r[key] for r in runs]
    if "throughput" in key:
        return f"{statistics.median(values):.0f} req/s"
    if key.startswith("p2") and key.endswith("_cpu"):
        return f"{statistics.median(values) * 1e6:.0f} µs CPU"
    if key.endswith("_cpu"):
        return f"{statistics.median(values) * 1e3:.0f} ms CPU"
    return (
        f"{statistics.median(values) * 1e3:.3f} ms" if "latency" in key else f"{statistics.median(values) * 1e3:.0f} ms"
    )


def table_rows(new: list[dict[str, float]], old: list[dict[str, float]]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for label, client_key, base_key, higher, target in FIGURES:
        ratios = [r[client_key] / r[base_key] for r in new]
        row = [label, _absolute(base_key, new), _absolute(client_key, new), f"{_spread(ratios)} {target}"]
        if old:
            old_ratios = [r[client_key] / r[base_key] for r in old]
            # new vs old client, each against the raw baseline of its own run (noise of the two processes cancels)
            versus = [n / o for n, o in zip(ratios, old_ratios, strict=True)]
            better = "higher" if higher else "lower"
            row += [_spread(old_ratios), f"{_spread(versus)} ({better} is better)"]
        rows.append(tuple(row))
    return rows


def print_table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs per figure (at least 5 for a report)")
    parser.add_argument("--import-runs", type=int, default=15)
    parser.add_argument("--baseline-src", help="src directory of another copy of the package to compare with")
    parser.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(one_run(args.worker, args.calls, args.chunks)))
        return
    proc, url = start_server()
    new: list[dict[str, float]] = []
    old: list[dict[str, float]] = []
    try:
        for run in range(args.runs):
            if args.baseline_src:
                # Which process goes first alternates run by run, so neither gains from the server's state.
                sources = [str(Path(args.baseline_src).resolve()), None]
                for src in sources if run % 2 == 0 else sources[::-1]:
                    (old if src else new).append(worker_run(url, args.calls, args.chunks, src))
            else:
                new.append(one_run(url, args.calls, args.chunks))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"\n## Client benchmarks ({args.runs} interleaved runs; median ratio, min–max in brackets)\n")
    headers: tuple[str, ...] = ("benchmark", "baseline (median)", "tekton-llm-client (median)", "ratio (spread) target")
    if old:
        headers += ("previous client: ratio", "this / previous")
    print_table(headers, table_rows(new, old))
    print()
    print_table(("import", "baseline", "tekton-llm-client: median (min–max)", "note"), p4(args.import_runs))


if __name__ == "__main__":
    main()
