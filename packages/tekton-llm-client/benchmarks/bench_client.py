"""Client benchmarks P2–P4, the telemetry cost and the rate limit under load: each figure is a ratio against a named
baseline, as the median of interleaved runs.

P2  non-streaming calls: TektonLLMClient.generate_text vs raw httpx.AsyncClient posts of the same body
    (median latency, sequential, calls strictly alternating; throughput at concurrency 50, three alternating
    rounds per run).
P3  one 10,000-chunk SSE stream: the client's TextStream vs raw httpx ``aiter_lines``; the same stream over WS.
P4  ``import tekton_llm_client`` (and the heavier first uses) in a fresh interpreter.
T1  telemetry absent (OpenTelemetry not importable): P2/P3 against the pipeline before the telemetry hook, a
    ``git worktree`` of ``--baseline-ref`` (``BENCH_BASELINE_REF``; ``nox -s bench`` defaults to 391e426).
T2  ``opentelemetry-api`` installed, no SDK configured; and an SDK with an in-memory span exporter and metric
    reader: P2 against telemetry absent.
R1  the client-side rate limit under concurrency 50: callers against a local server with a short window; the most
    requests the server saw in any window vs the limit, and how long callers waited.

Every figure is measured ``--runs`` times (default 5), each run in fresh interpreters; the client and its baseline
alternate within each run, so machine noise hits both alike. The tables give the median ratio and its spread
(min–max over the runs). Timing ratios on a busy machine are noisy, so T1/T2 also print a deterministic figure:
Python function calls per request under cProfile. ``--baseline-src DIR`` measures another copy of the package
(``DIR`` being its ``src``) instead of a ref.

The Rhetor test server runs as a separate process so that it does not share the client's GIL.
Targets (medians): P2 <= 1.10x latency and >= 0.95x throughput, P3 <= 1.20x, P4 <= 120 ms; T1 P2 latency <= 1.01x
of the pipeline without the hook; R1 never more requests in a window than the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import importlib.abc
import importlib.util
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

BODY = {"messages": [{"role": "user", "content": "benchmark"}], "stream": False}
Call = Callable[[], Awaitable[Any]]
ROOT = Path(__file__).resolve().parents[3]
CLIENT_SRC = Path("packages") / "tekton-llm-client" / "src"
# Telemetry states a worker runs in: OpenTelemetry not importable, the API without an SDK, an SDK in memory.
STATES = ("absent", "api", "sdk")


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


# ------------------------------------------------------------------------------------------ telemetry states


class _NoOpenTelemetry(importlib.abc.MetaPathFinder):
    """Makes ``opentelemetry`` unimportable in this process: the state of an install without the [otel] extra."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname == "opentelemetry" or fullname.startswith("opentelemetry."):
            raise ModuleNotFoundError(f"No module named {fullname!r} (hidden by the benchmark)", name=fullname)


def enter_state(state: str) -> Any:
    """Put this (fresh) process in a telemetry state before the client is imported; ``sdk`` returns its exporter."""
    if state == "absent":
        sys.meta_path.insert(0, _NoOpenTelemetry())
        return None
    if state == "api":
        return None
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    return exporter


async def calls_per_request(url: str, n: int) -> float:
    """Python function calls (cProfile's count, the event loop included) per sequential generate_text call: a
    figure that does not move with machine load, unlike timings."""
    from tekton_llm_client.client import TektonLLMClient

    async with TektonLLMClient("bench", rhetor_url=url, api="v1", transport="http", use_fallback=False) as client:
        for _ in range(20):
            await client.generate_text("benchmark")
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(n):
            await client.generate_text("benchmark")
        profile.disable()
    return float(pstats.Stats(profile).total_calls) / n  # type: ignore[attr-defined]


def one_run(url: str, calls: int, chunks: int, parts: Sequence[str], state: str) -> dict[str, Any]:
    """The figures named in ``parts`` once, in this process (already in telemetry ``state``)."""
    exporter = enter_state(state)
    import tekton_llm_client

    result: dict[str, Any] = {"module": tekton_llm_client.__file__}
    if "p2" in parts:
        result.update(asyncio.run(p2(url, calls)))
    if "p3" in parts:
        result.update(asyncio.run(p3(url, chunks)))
    if "profile" in parts:
        result["calls_per_request"] = asyncio.run(calls_per_request(url, max(50, calls // 10)))
    if exporter is not None:
        result["spans"] = len(exporter.get_finished_spans())
    return result


def worker_run(
    url: str, calls: int, chunks: int, src: str | None, *, parts: Sequence[str] = ("p2", "p3"), state: str = "absent"
) -> dict[str, Any]:
    """One run in a fresh interpreter importing the package from ``src`` (``None``: this environment's)."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    command = [sys.executable, __file__, "--worker", url, "--calls", str(calls), "--chunks", str(chunks)]
    out = subprocess.run(
        [*command, "--parts", ",".join(parts), "--state", state],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmark worker ({state}, src={src or 'installed'}) failed:\n{out.stderr[-3000:]}")
    result = dict(json.loads(out.stdout.strip().splitlines()[-1]))
    if src and not str(result["module"]).startswith(str(Path(src).resolve())):
        raise RuntimeError(f"the baseline worker imported {result['module']}, not the copy in {src}")
    return result


# ------------------------------------------------------------------------------------------------- baseline


@contextlib.contextmanager
def baseline_tree(ref: str) -> Iterator[str | None]:
    """The client's ``src`` at git ``ref``, in a temporary detached worktree removed afterwards; ``None`` (and a
    message saying why) when git, the repository or the ref is missing."""
    git = shutil.which("git")
    if git is None:
        print(f"bench: git is not installed: no comparison with {ref} (the T1 rows are skipped)")
        yield None
        return
    found = subprocess.run(
        [git, "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        print(f"bench: {ROOT} has no commit {ref!r} (not a git checkout, or a shallow one): the T1 rows are skipped")
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="tekton-bench-baseline-"))
    tree = folder / "tree"
    try:
        subprocess.run(
            [git, "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(tree), ref],
            check=True,
            capture_output=True,
            text=True,
        )
        src = tree / CLIENT_SRC
        if not (src / "tekton_llm_client").is_dir():
            print(f"bench: {ref} has no {CLIENT_SRC}/tekton_llm_client: the T1 rows are skipped")
            yield None
        else:
            print(f"bench: baseline {ref} checked out in {tree} (removed afterwards)")
            yield str(src)
    except subprocess.CalledProcessError as error:
        print(f"bench: git worktree add {ref} failed ({error.stderr.strip()}): the T1 rows are skipped")
        yield None
    finally:
        remove = [git, "-C", str(ROOT), "worktree", "remove", "--force", str(tree)]
        subprocess.run(remove, capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------------------------------ rate limit


def _timed_server(arrivals: list[float]) -> Any:
    """The v1 Rhetor test server, noting the monotonic time each chat request reaches it (``time.monotonic`` is
    the system's monotonic clock, the same in every process on Linux and macOS)."""
    from tekton_llm_client.testing import RhetorTestServer

    class TimedServer(RhetorTestServer):
        def _build_app(self) -> Any:
            app = super()._build_app()

            async def timed(scope: Any, receive: Any, send: Any) -> None:
                if scope["type"] == "http" and scope["path"].startswith("/api/v1/chat"):
                    arrivals.append(time.monotonic())
                await app(scope, receive, send)

            return timed

    return TimedServer("v1", chunk_delay=0.0)


def timed_server_main() -> None:
    """``--timed-server``: serve in this process until stdin closes, then print the arrival times (JSON)."""
    arrivals: list[float] = []
    server = _timed_server(arrivals)
    server.start()
    print(json.dumps({"url": server.url}), flush=True)
    sys.stdin.read()
    server.stop()
    print(json.dumps(arrivals), flush=True)


@contextlib.contextmanager
def timed_server() -> Iterator[tuple[str, list[float]]]:
    """A timed server in its own process (not sharing the callers' GIL); the list fills in when it stops."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--timed-server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    arrivals: list[float] = []
    try:
        yield json.loads(proc.stdout.readline())["url"], arrivals
    finally:
        proc.stdin.close()
        arrivals += json.loads(proc.stdout.readline() or "[]")
        proc.wait(timeout=10)


SKEW = 0.1  # the same allowance as tests/test_ratelimit_e2e.py JITTER


def most_in_window(arrivals: Sequence[float], window: float) -> int:
    """The most arrivals in any half-open interval ``[t, t + window)`` (one starts at an arrival at its largest)."""
    times = sorted(arrivals)
    return max((bisect_left(times, t + window) - i for i, t in enumerate(times)), default=0)


async def _burst(url: str, limits: Any, callers: int, each: int) -> tuple[list[float], int]:
    """``callers`` concurrent callers, ``each`` calls apiece; their answer times and the refusals."""
    from tekton_llm_client.client import TektonLLMClient
    from tekton_llm_client.exceptions import ClientRateLimitError

    refused = 0
    async with TektonLLMClient(
        "bench-ratelimit", rhetor_url=url, api="v1", transport="http", use_fallback=False, timeout=60,
        rate_limits=limits,
    ) as client:

        async def caller() -> list[float]:
            nonlocal refused
            took = []
            for _ in range(each):
                start = time.monotonic()
                try:
                    await client.generate_text("benchmark")
                except ClientRateLimitError:
                    refused += 1
                took.append(time.monotonic() - start)
            return took

        per_caller = await asyncio.gather(*(caller() for _ in range(callers)))
    return [t for took in per_caller for t in took], refused


def rate_limit_run(callers: int, each: int, rpm: int, window: float) -> dict[str, Any]:
    """R1 in this (fresh) process: an SDK in memory when installed, so the waits come from the spans."""
    try:
        from tekton_llm_client._ratelimit import RateLimits
    except ImportError:
        return {"error": "tekton_llm_client has no RateLimits (the rate limiter has not landed)"}
    try:
        exporter = enter_state("sdk")
    except ImportError:
        exporter = None
    with timed_server() as (url, arrivals):
        took, refused = asyncio.run(_burst(url, RateLimits(rpm=rpm, window=window), callers, each))
    waits = [
        float((span.attributes or {}).get("tekton.ratelimit.wait", 0.0))
        for span in (exporter.get_finished_spans() if exporter is not None else ())
        if span.name.startswith("chat")
    ]
    return {
        "requests": len(arrivals),
        "most_in_window": most_in_window(arrivals, window),
        # Send delays vary (a new connection, a first call's imports): a window SKEW shorter shows whether more
        # than the limit came in because the limiter admitted too many, or because earlier ones arrived late.
        "most_in_shorter": most_in_window(arrivals, window - SKEW),
        "span": max(arrivals) - min(arrivals) if arrivals else 0.0,
        "refused": refused,
        "waits": waits if len(waits) == len(took) else None,
        "took": took,
    }


def rate_limit_rows(args: argparse.Namespace) -> list[tuple[str, ...]]:
    command = [sys.executable, __file__, "--rate-limit-worker", "--calls", str(args.rl_calls)]
    out = subprocess.run(
        [*command, "--rl-rpm", str(args.rl_rpm), "--rl-window", str(args.rl_window)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return [("R1 rate limit @50", "-", "-", f"worker failed: {out.stderr.strip().splitlines()[-1:]}", "-")]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if "error" in result:
        return [("R1 rate limit @50", "-", "-", f"skipped: {result['error']}", "-")]
    limit = f"{args.rl_rpm} per {args.rl_window:g} s"
    requests = result["requests"]
    ideal = (requests // args.rl_rpm - (requests % args.rl_rpm == 0)) * args.rl_window  # back-to-back full windows
    seen = (
        f"{result['most_in_window']} (of {result['requests']} in {result['span']:.2f} s, ideal {ideal:.2f} s; "
        f"{result['most_in_shorter']} in any {args.rl_window - SKEW:g} s)"
    )
    verdict = "met" if result["most_in_window"] <= args.rl_rpm and result["requests"] else "MISSED"
    if result["waits"] is not None:
        waits = f"waited (span tekton.ratelimit.wait): {_seconds(result['waits'])}"
    else:
        waits = f"time to answer (no spans to read the wait from): {_seconds(result['took'])}"
    label = f"R1 rate limit, 50 callers x {args.rl_calls} calls"
    return [(label, limit, f"{seen}; {verdict}", waits, str(result["refused"]))]


def _seconds(values: list[float]) -> str:
    return f"median {statistics.median(values):.3f} s, max {max(values):.3f} s" if values else "none"


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


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f}x ({min(values):.3f}–{max(values):.3f})"


def _absolute(key: str, runs: list[dict[str, Any]]) -> str:
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


def _versus(new: list[dict[str, Any]], old: list[dict[str, Any]], client_key: str, base_key: str) -> list[float]:
    """Run by run: the new client's ratio to its raw baseline over the old one's (the two processes' noise
    cancels)."""
    return [(n[client_key] / n[base_key]) / (o[client_key] / o[base_key]) for n, o in zip(new, old, strict=True)]


def table_rows(new: list[dict[str, Any]], old: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for label, client_key, base_key, higher, target in FIGURES:
        ratios = [r[client_key] / r[base_key] for r in new]
        row = [label, _absolute(base_key, new), _absolute(client_key, new), f"{_spread(ratios)} {target}"]
        if old:
            old_ratios = [r[client_key] / r[base_key] for r in old]
            better = "higher" if higher else "lower"
            row += [_spread(old_ratios), f"{_spread(_versus(new, old, client_key, base_key))} ({better} is better)"]
        rows.append(tuple(row))
    return rows


def _calls(this: list[dict[str, Any]], that: list[dict[str, Any]]) -> str:
    mine = statistics.median(r["calls_per_request"] for r in this)
    theirs = statistics.median(r["calls_per_request"] for r in that)
    return f"{mine:.0f} vs {theirs:.0f} ({mine / theirs:.3f}x)"


def telemetry_rows(runs: dict[str, list[dict[str, Any]]], ref: str | None) -> list[tuple[str, ...]]:
    """T1 (telemetry absent vs before the hook) and T2 (API without SDK, SDK in memory, vs absent)."""
    rows: list[tuple[str, ...]] = []
    absent, old = runs["absent"], runs.get("old", [])
    if old:
        before = f"pipeline before the hook ({ref})"
        latency = _versus(absent, old, "p2_client_latency", "p2_raw_latency")
        verdict = "met" if statistics.median(latency) <= 1.01 else "missed"
        rows.append(("T1 P2 latency, telemetry absent", before, f"{_spread(latency)}", _calls(absent, old),
                     f"<= 1.01x: {verdict}"))
        throughput = _versus(absent, old, "p2_client_throughput", "p2_raw_throughput")
        rows.append(("T1 P2 throughput @50, telemetry absent", before, _spread(throughput), "-", "(higher is better)"))
        stream = _versus(absent, old, "p3_client", "p3_raw")
        rows.append(("T1 P3 SSE stream, telemetry absent", before, _spread(stream), "-", "(information)"))
    for state, label in (("api", "opentelemetry-api, no SDK configured"), ("sdk", "SDK + in-memory exporter")):
        mine = runs.get(state, [])
        if not mine:
            continue
        latency = _versus(mine, absent, "p2_client_latency", "p2_raw_latency")
        # The extra time per call, normalised like the ratio: (ratio here - ratio absent) x raw httpx latency.
        extra = statistics.median(
            (m["p2_client_latency"] / m["p2_raw_latency"] - a["p2_client_latency"] / a["p2_raw_latency"])
            * a["p2_raw_latency"]
            for m, a in zip(mine, absent, strict=True)
        )
        spans = ""
        if state == "sdk":
            emitted = statistics.median(r.get("spans", 0) for r in mine)
            spans = f"; {emitted:.0f} spans/run" if emitted else "; NO spans emitted: the client has no telemetry"
        rows.append((f"T2 P2 latency, {label}", "telemetry absent", f"{_spread(latency)} ({extra * 1e6:+.0f} µs/call)",
                     _calls(mine, absent), f"(cost{spans})"))
        throughput = _versus(mine, absent, "p2_client_throughput", "p2_raw_throughput")
        rows.append((f"T2 P2 throughput @50, {label}", "telemetry absent", _spread(throughput), "-",
                     "(higher is better)"))
    return rows


def print_table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def _states_available() -> list[str]:
    """``api``/``sdk`` when OpenTelemetry's API/SDK are installed here (the bench session installs both)."""
    if importlib.util.find_spec("opentelemetry") is None:
        print("bench: opentelemetry-api is not installed: the T2 rows are skipped (install tekton-llm-client[otel])")
        return []
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        print("bench: opentelemetry-sdk is not installed: the SDK row is skipped")
        return ["api"]
    return ["api", "sdk"]


def measure(args: argparse.Namespace, url: str, src: str | None) -> dict[str, list[dict[str, Any]]]:
    """Every run: the workers in turn (the order rotates run by run, so none gains from the server's state)."""
    jobs: list[tuple[str, str | None, tuple[str, ...], str]] = [("absent", None, ("p2", "p3", "profile"), "absent")]
    if src:
        jobs.append(("old", src, ("p2", "p3", "profile"), "absent"))
    if not args.no_telemetry:
        jobs += [(state, None, ("p2", "profile"), state) for state in _states_available()]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in jobs}
    for run in range(args.runs):
        shift = run % len(jobs)
        for name, job_src, parts, state in jobs[shift:] + jobs[:shift]:
            runs[name].append(worker_run(url, args.calls, args.chunks, job_src, parts=parts, state=state))
    return runs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs per figure (at least 5 for a report)")
    parser.add_argument("--import-runs", type=int, default=15)
    parser.add_argument("--baseline-src", help="src directory of another copy of the package to compare with")
    parser.add_argument(
        "--baseline-ref",
        default=os.environ.get("BENCH_BASELINE_REF") or None,
        help="git ref of the package to compare with, checked out in a temporary worktree "
        "(default: $BENCH_BASELINE_REF; nox -s bench sets 391e426, main before issue 14)",
    )
    parser.add_argument("--no-telemetry", action="store_true", help="skip the T2 rows (API / SDK states)")
    parser.add_argument("--rl-calls", type=int, default=2, help="R1: calls per caller (50 callers)")
    parser.add_argument("--rl-rpm", type=int, default=20, help="R1: requests admitted per window")
    parser.add_argument("--rl-window", type=float, default=1.0, help="R1: the limiter's window in seconds")
    parser.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--parts", default="p2,p3", help=argparse.SUPPRESS)
    parser.add_argument("--state", default="absent", choices=STATES, help=argparse.SUPPRESS)
    parser.add_argument("--rate-limit-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--timed-server", action="store_true", help=argparse.SUPPRESS)
    return parser


def main() -> None:
    args = _parser().parse_args()
    if args.worker:
        print(json.dumps(one_run(args.worker, args.calls, args.chunks, args.parts.split(","), args.state)))
        return
    if args.timed_server:
        timed_server_main()
        return
    if args.rate_limit_worker:
        print(json.dumps(rate_limit_run(50, args.calls, args.rl_rpm, args.rl_window)))
        return
    ref = None if args.baseline_src else args.baseline_ref
    proc, url = start_server()
    try:
        with contextlib.ExitStack() as stack:
            src = args.baseline_src or (stack.enter_context(baseline_tree(ref)) if ref else None)
            runs = measure(args, url, str(Path(src).resolve()) if src else None)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"\n## Client benchmarks ({args.runs} interleaved runs; median ratio, min–max in brackets)\n")
    print("Telemetry absent (OpenTelemetry not importable) in every P2/P3 row.\n")
    headers: tuple[str, ...] = ("benchmark", "baseline (median)", "tekton-llm-client (median)", "ratio (spread) target")
    if runs.get("old"):
        headers += (f"previous client ({ref or 'baseline-src'}): ratio", "this / previous")
    print_table(headers, table_rows(runs["absent"], runs.get("old", [])))
    print("\n## Telemetry cost (ratios of each worker's P2 ratio to raw httpx, run by run)\n")
    rows = telemetry_rows(runs, ref or args.baseline_src)
    if rows:
        print_table(("figure", "compared with", "ratio (spread)", "function calls per request", "target"), rows)
    else:
        print("(no baseline client and no telemetry state measured: nothing to compare)")
    print("\n## Rate limit under concurrency 50\n")
    print_table(
        ("figure", "limit", "most requests the server saw in any window", "waits", "refused"),
        rate_limit_rows(args),
    )
    print()
    print_table(("import", "baseline", "tekton-llm-client: median (min–max)", "note"), p4(args.import_runs))


if __name__ == "__main__":
    main()
