"""P5: what a shim call costs over the equivalent direct ``TektonLLMClient`` call, on the same Rhetor test server.

Each row pairs a legacy shim method with the one client call it performs (same messages, options and context),
runs them interleaved many times against one local test server, and reports the median latency of each and the
ratio of the medians (target <= 1.05x). The "new adapter per call" rows build the adapter inside the timed call,
as Terma's routes and Engram's ``Depends`` do, against the same long-lived direct client: they measure what the
shared clients save (no generation detection, no new connection pool per request). Prints a markdown table;
exits 1 when a ratio misses the target and ``--strict`` is given.

    python shims/benchmarks/bench_shims.py [--iterations 300] [--profile v1] [--strict]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tekton_llm_client.client import TektonLLMClient
from tekton_llm_client.testing import RhetorTestServer
from tekton_llm_shims import engram, hermes, telos, terma
from tekton_llm_shims._hermes_analysis import HERMES_SYSTEM_PROMPT
from tekton_llm_shims._terma_config import DEFAULT_SYSTEM_PROMPT

TARGET = 1.05
Call = Callable[[], Awaitable[Any]]


@dataclass
class Row:
    name: str
    shim: Call
    direct: Call


async def _timed(call: Call) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def measure(row: Row, iterations: int, warmup: int) -> tuple[float, float]:
    """Median seconds of the shim call and of the direct call, interleaved so drift hits both alike."""
    for _ in range(warmup):
        await row.shim()
        await row.direct()
    shim_times: list[float] = []
    direct_times: list[float] = []
    for index in range(iterations):
        first, second = (row.shim, row.direct) if index % 2 == 0 else (row.direct, row.shim)
        a = await _timed(first)
        b = await _timed(second)
        shim_time, direct_time = (a, b) if index % 2 == 0 else (b, a)
        shim_times.append(shim_time)
        direct_times.append(direct_time)
    return statistics.median(shim_times), statistics.median(direct_times)


async def _drain(stream: Any) -> None:
    async for _ in stream:
        pass


def rows(url: str) -> tuple[list[Row], list[Any]]:
    client = TektonLLMClient("bench", rhetor_url=url, use_fallback=False)
    terma_adapter = terma.LLMAdapter(adapter_url=url)
    hermes_adapter = hermes.LLMAdapter(url)
    telos_adapter = telos.LLMAdapter(url)
    engram_adapter = engram.LLMAdapter(url)
    user = [{"role": "user", "content": "ping"}]
    hermes_messages = [{"role": "system", "content": HERMES_SYSTEM_PROMPT}, *user]
    hermes_options = {
        "model": hermes_adapter.default_model, "provider": "anthropic", "task_type": "chat", "timeout": 60.0,
    }
    v2_options = {"model": telos_adapter.default_model, "provider": "anthropic", "temperature": 0.7, "timeout": 120.0}
    terma_options = {
        "model": terma_adapter.model, "provider": "anthropic", "temperature": 0.7, "max_tokens": 500,
    }

    async def noop_callback(data: Any) -> None:
        return None

    def terma_direct() -> Awaitable[Any]:
        return client.generate_chat_response(
            [{"role": "user", "content": "Please explain this command concisely: ping"}],
            system_prompt=DEFAULT_SYSTEM_PROMPT, context_id="terma", options=terma_options,
        )

    engram_messages = [
        {"role": "system", "content": engram.SYS_ENGRAM_ANALYZE},
        {"role": "user", "content": "Please analyze the following content:\n\nping"},
    ]

    table = [
        Row("terma.analyze_command", lambda: terma_adapter.analyze_command("s", "ping"), terma_direct),
        Row(
            "terma.analyze_command, new adapter per call",
            lambda: terma.LLMAdapter().analyze_command("s", "ping"),  # Terma's routes: LLMAdapter() per request
            terma_direct,
        ),
        Row(
            "hermes.chat",
            lambda: hermes_adapter.chat("ping"),
            lambda: client.generate_chat_response(hermes_messages, context_id="hermes:chat", options=hermes_options),
        ),
        Row(
            "hermes.streaming_chat",
            lambda: hermes_adapter.streaming_chat("ping", noop_callback),
            lambda: _drain(client.generate_chat_response(
                hermes_messages, streaming=True, context_id="hermes:chat:streaming", options=hermes_options
            )),
        ),
        Row(
            "telos.chat",
            lambda: telos_adapter.chat(user),
            lambda: client.generate_chat_response(user, options=v2_options),
        ),
        Row(
            "engram.analyze_memory",
            lambda: engram_adapter.analyze_memory("ping"),
            lambda: client.generate_chat_response(engram_messages, options=v2_options),
        ),
        Row(
            "engram.analyze_memory, new adapter per call",
            lambda: engram.LLMAdapter().analyze_memory("ping"),  # Engram's Depends(get_llm_adapter)
            lambda: client.generate_chat_response(engram_messages, options=v2_options),
        ),
    ]
    return table, [client, terma_adapter, hermes_adapter, telos_adapter, engram_adapter]


async def run(url: str, iterations: int, warmup: int) -> list[tuple[str, float, float]]:
    table, owners = rows(url)
    results = []
    try:
        for row in table:
            shim, direct = await measure(row, iterations, warmup)
            results.append((row.name, shim, direct))
    finally:
        for owner in owners:
            await owner.aclose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--profile", default="v1", choices=["v1", "classic"])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a ratio exceeds the target")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", DeprecationWarning)

    with tempfile.TemporaryDirectory() as home, RhetorTestServer(profile=args.profile, chunk_delay=0.0) as server:
        os.environ["HOME"] = home  # Terma writes ~/.terma/config.json on construction
        os.environ["RHETOR_URL"] = server.url  # what the per-call adapters (built without arguments) use
        results = asyncio.run(run(server.url, args.iterations, args.warmup))

    print(f"### P5 shim overhead (Rhetor test server, profile {args.profile}, {args.iterations} iterations each)\n")
    print("| call | direct client median (ms) | shim median (ms) | ratio | target |")
    print("|---|---:|---:|---:|---|")
    worst = 0.0
    for name, shim, direct in results:
        ratio = shim / direct if direct else float("inf")
        worst = max(worst, ratio)
        mark = "ok" if ratio <= TARGET else "MISSED"
        print(f"| `{name}` | {direct * 1000:.3f} | {shim * 1000:.3f} | {ratio:.3f}x | <= {TARGET}x {mark} |")
    return 1 if args.strict and worst > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
