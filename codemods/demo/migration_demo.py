"""The migration demo (``nox -s demo``): every step a Tekton maintainer runs, on the sample components.

1. copy ``components/`` to a scratch folder (the originals are never touched)
2. run the components' tests as they are: their LLM features fail, because the old LLM Adapter service is gone
3. start a Rhetor test server (a real socket on 127.0.0.1)
4. ``tekton-migrate inventory``: who uses which legacy adapter, how
5. ``tekton-migrate rewrite --diff``, then the rewrite itself
6. ``tekton-migrate cleanup --write``, per component: delete legacy adapter modules nothing can reach any more
7. run every component's tests again, now through the shims and the client, against the live server; with the
   OpenTelemetry SDK installed, the legacy calls the shims counted (``tekton.shim.calls``) next to the inventory
8. a summary table

The scratch folder (migrated copy, ``rewrite-report.json``, JUnit reports) is removed at the end when everything
passed; ``--keep`` (``nox -s demo -- --keep``) keeps it, and it is always kept when something failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from tekton_codemods.matrix import ResultsError, read_junit

console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 110)
ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = ("terma", "hermes", "telos", "engram")
SHIM_CALLS_ENV = "TEKTON_DEMO_SHIM_CALLS"
"""Set in a component's test run (with this module loaded as a pytest plugin): where to write its shim calls."""


@dataclass
class Outcome:
    """What happened to one component."""

    name: str
    call_sites: int = 0
    files_changed: int = 0
    deleted: list[str] = field(default_factory=list)
    before: tuple[int, int] = (0, 0)
    after: tuple[int, int] = (0, 0)
    seconds: float = 0.0
    static_calls: dict[str, int] = field(default_factory=dict)  # "LLMAdapter.chat" -> call sites (inventory)
    shim_calls: dict[str, int] | None = None  # "LLMAdapter.chat" -> calls counted live; None: not counted


def step(number: int, title: str, why: str) -> None:
    console.print()
    console.rule(f"[bold]Step {number}. {title}")
    console.print(f"[dim]{why}[/dim]")


def migrate(scratch: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the tekton-migrate CLI of this environment in the scratch folder (short relative paths in its output)."""
    command = [sys.executable, "-m", "tekton_codemods", *args]
    console.print(f"[cyan]$ tekton-migrate {' '.join(args)}[/cyan]")
    result = subprocess.run(command, cwd=scratch, capture_output=True, text=True, check=False)
    if result.stdout.strip():
        console.print(result.stdout.rstrip(), markup=False)
    if result.stderr.strip():
        console.print(result.stderr.rstrip(), markup=False, style="dim")
    return result


def run_tests(component: Path, env: dict[str, str], report: Path, calls: Path | None = None) -> tuple[int, int, float]:
    """pytest on one component folder; (passed, collected, seconds) from its JUnit report, read the way the component
    matrix reads it (``tekton_codemods.matrix.read_junit``). With ``calls``, the run counts the shims' legacy calls
    into that file (this module as a pytest plugin)."""
    started = time.perf_counter()
    plugin: list[str] = []
    path = str(component)
    if calls is not None:
        plugin, path = ["-p", "migration_demo"], os.pathsep.join((path, str(Path(__file__).parent)))
        env = {**env, SHIM_CALLS_ENV: str(calls)}
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning",
         *plugin, f"--junitxml={report}", "tests"],
        cwd=component, env={**env, "PYTHONPATH": path}, capture_output=True, text=True, check=False,
    )
    seconds = time.perf_counter() - started
    try:
        results = read_junit(report)
    except ResultsError:
        return 0, 0, seconds
    collected = [r for key, r in results.items() if not key.startswith("<collection> ")]
    return sum(1 for r in collected if r.outcome == "passed"), len(collected), seconds


def start_server(profile: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tekton_llm_client.testing", "--profile", profile, "--port", "0", "--chunk-delay", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("the Rhetor test server did not start")
    return proc, json.loads(line)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=os.environ.get("TEKTON_DEMO_SOURCE", str(ROOT / "components")),
                        help="folder holding the components to migrate (default: the bundled samples)")
    parser.add_argument("--profile", default="v1", help="Rhetor test server profile (v1, v1-as-shipped, classic)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch folder (migrated copy, rewrite-report.json, JUnit reports) even when "
                        "everything passed; it is always kept when something failed")
    return parser.parse_args()


def otel_sdk_installed() -> bool:
    """Whether this environment can count the shims' calls (the OpenTelemetry SDK; the demo works without it)."""
    try:
        return importlib.util.find_spec("opentelemetry.sdk") is not None
    except ModuleNotFoundError:  # not even the ``opentelemetry`` namespace
        return False


def test_all(names: list[str], work: Path, scratch: Path, env: dict[str, str], outcomes: dict[str, Outcome],
             phase: str) -> None:
    """Run every component's tests; record (passed, collected) and, after the migration, the seconds."""
    counting = phase == "after" and otel_sdk_installed()
    for name in names:
        calls = scratch / f"{name}-shim-calls.json" if counting else None
        passed, total, seconds = run_tests(work / name, env, scratch / f"{name}-{phase}.xml", calls)
        outcome = outcomes[name]
        if calls is not None and calls.exists():
            outcome.shim_calls = json.loads(calls.read_text())
        if phase == "before":
            outcome.before = (passed, total)
            console.print(f"  {name:<8} {passed:>2}/{total} tests pass")
        else:
            outcome.after, outcome.seconds = (passed, total), seconds
            mark = "[green]ok[/green]" if passed == total and total else "[red]FAILED[/red]"
            console.print(f"  {name:<8} {passed:>2}/{total} tests pass  {mark}")


def static_calls(scratch: Path, outcomes: dict[str, Outcome]) -> None:
    """The legacy method calls the inventory found, per component (``calls`` of ``inventory --json``), kept to set
    beside what the shims count live after the migration."""
    result = subprocess.run([sys.executable, "-m", "tekton_codemods", "inventory", "--json", "components"],
                            cwd=scratch, capture_output=True, text=True, check=False)
    for component in json.loads(result.stdout or "{}").get("components", []):
        if component["component"] in outcomes:
            outcomes[component["component"]].static_calls = {
                f"{cls}.{method}": count
                for cls, methods in component["calls"].items()
                for method, count in methods.items()
            }


def live_calls(outcomes: dict[str, Outcome]) -> None:
    """Step 7's last lines: the legacy calls the shims counted (``tekton.shim.calls``), joined with the inventory."""
    counted = [o for o in outcomes.values() if o.shim_calls is not None]
    if not counted:
        console.print("  [dim](install opentelemetry-sdk to see which legacy calls the tests made through the shims)"
                      "[/dim]")
        return
    console.print("  Legacy calls counted live (tekton.shim.calls), joined with the inventory "
                  "(* = no call site in it, 0 = never called):")
    for o in counted:
        seen = o.shim_calls or {}
        by_class: dict[str, list[str]] = {}
        for key in sorted(set(seen) | set(o.static_calls)):
            cls, _, method = key.partition(".")
            by_class.setdefault(cls, []).append(f"{method}{'' if key in o.static_calls else '*'} {seen.get(key, 0)}")
        described = "; ".join(f"{cls}: {', '.join(methods)}" for cls, methods in by_class.items())
        console.print(f"  {o.name:<8} {described or '-'}", markup=False)


def rewrite(scratch: Path, outcomes: dict[str, Outcome]) -> None:
    """Steps 4 and 5: the diff, the rewrite with its JSON report, and the idempotency check."""
    step(4, "Rewrite: the diff first", "Only import lines and dotted-path strings change; comments, quotes and "
         "line endings stay as they were.")
    migrate(scratch, "rewrite", "components", "--diff")

    step(5, "Rewrite: write it", "Every output is re-parsed before an atomic write; a second run changes nothing.")
    report_path = scratch / "rewrite-report.json"
    migrate(scratch, "rewrite", "components", "--report", report_path.name)
    report = json.loads(report_path.read_text())
    for entry in report["files"]:
        name = next((part for part in Path(entry["path"]).parts if part in outcomes), "")
        if name in outcomes and entry["status"] == "changed":
            outcomes[name].files_changed += 1
            outcomes[name].call_sites += len(entry.get("changes", []))
    check = migrate(scratch, "rewrite", "components", "--check")
    console.print("  second run: " + ("nothing left to change" if check.returncode == 0 else "[red]changes![/red]"))


def clean_up(scratch: Path, names: list[str], outcomes: dict[str, Outcome]) -> None:
    """Step 6: ``cleanup --write`` per component, noting which legacy adapter was deleted."""
    step(6, "Clean up (phase 3)", "Per component, as MIGRATION.md runs it: a legacy adapter module is deleted "
         "only when nothing in the whole tree (--root) can reach it any more; otherwise it is kept and the reason "
         "is shown.")
    for name in names:
        cleanup = migrate(scratch, "cleanup", f"components/{name}", "--write", "--root", "components")
        for line in cleanup.stdout.splitlines():
            if line.startswith("deleted") and f"{name}/core/llm_adapter.py" in line.replace("\\", "/"):
                outcomes[name].deleted.append(f"{name}/core/llm_adapter.py")


def summary(outcomes: dict[str, Outcome]) -> bool:
    """Step 8: the table and the verdict; True when every component is green after the migration."""
    step(8, "Summary", "Call sites = import statements and strings rewritten.")
    table = Table(show_lines=False, caption="tests: passing/collected, from pytest's JUnit report. seconds: wall "
                  "time of the component's test run after the migration (against the live test server).")
    for column in ("component", "call sites rewritten", "files changed", "adapter deleted",
                   "tests before", "tests after", "seconds"):
        table.add_column(column, justify="left" if column == "component" else "right")
    for o in outcomes.values():
        table.add_row(o.name, str(o.call_sites), str(o.files_changed), "yes" if o.deleted else "no",
                      f"{o.before[0]}/{o.before[1]}", f"{o.after[0]}/{o.after[1]}", f"{o.seconds:.1f}")
    console.print(table)
    ok = all(o.after[0] == o.after[1] and o.after[1] > 0 for o in outcomes.values())
    console.print("[bold green]All components migrated and green.[/bold green]" if ok else
                  "[bold red]Some component tests failed after migration (see above).[/bold red]")
    console.print("Next: MIGRATION.md, section 2, to do the same on a real component.")
    return ok


# -- loaded into a component's test run with ``-p migration_demo`` (see ``run_tests``) ---------------------------

_plugin: dict[str, Any] = {}


def pytest_configure(config: Any) -> None:
    """Count in memory what the run sends through OpenTelemetry (the shims' ``tekton.shim.calls``)."""
    from opentelemetry import metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    _plugin["reader"] = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[_plugin["reader"]]))


def pytest_unconfigure(config: Any) -> None:
    """Write ``{"LLMAdapter.chat": n, ...}`` (this component's legacy calls) where the demo asked for it."""
    counts: dict[str, int] = {}
    data = _plugin["reader"].get_metrics_data() if "reader" in _plugin else None
    for resource in data.resource_metrics if data is not None else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == "tekton.shim.calls":
                    for point in metric.data.data_points:
                        key = f"{point.attributes['tekton.shim.class']}.{point.attributes['tekton.shim.method']}"
                        counts[key] = counts.get(key, 0) + int(point.value)
    Path(os.environ[SHIM_CALLS_ENV]).write_text(json.dumps(counts))


def finish(scratch: Path, *, ok: bool, keep: bool) -> None:
    """Keep the scratch folder when asked or when something failed (the failures point into it), else remove it."""
    if keep or not ok:
        why = "as asked (--keep)" if keep else "because something failed"
        console.print(f"Scratch folder kept {why}: {scratch}  (migrated copy in components/, rewrite-report.json, "
                      "JUnit reports <component>-before.xml / -after.xml)")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
        console.print(f"Scratch folder {scratch} removed; keep it with: nox -s demo -- --keep")


def main() -> int:
    args = parse_args()
    source = Path(args.source).resolve()
    names = [n for n in COMPONENTS if (source / n).is_dir()]
    console.print(Panel.fit(
        "[bold]Tekton LLM migration demo[/bold]\n"
        f"Moves {', '.join(names)} off their own llm_adapter.py onto [bold]tekton_llm_shims[/bold],\n"
        "which keep the old "
        "API but send every request through [bold]tekton_llm_client[/bold] to Rhetor.\n"
        f"Input: {source}  (copied first; the originals are not modified)",
    ))
    scratch = Path(tempfile.mkdtemp(prefix="tekton-demo-"))
    work = scratch / "components"
    shutil.copytree(source, work, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache"))
    outcomes = {name: Outcome(name) for name in names}
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("RHETOR_", "TEKTON_RHETOR_"))}
    server = None
    try:
        step(1, "Before: the components as they are",
             "Their LLM features still call the retired LLM Adapter service (localhost:8300), which is gone.")
        test_all(names, work, scratch, base_env, outcomes, "before")

        step(2, "Start a Rhetor test server", "A Rhetor look-alike on a real socket: the deterministic simulated "
             "provider answers 'I received your message: ...'.")
        server, info = start_server(args.profile)
        console.print(f"  Rhetor ({info['profile']}) listening at {info['url']}  (WebSocket {info['ws_url']})")

        step(3, "Inventory", "Which files use a legacy adapter, in which import forms, and which legacy "
             "classes, methods and attributes they touch - what the shims must cover.")
        migrate(scratch, "inventory", "components")
        static_calls(scratch, outcomes)
        rewrite(scratch, outcomes)
        clean_up(scratch, names, outcomes)

        step(7, "After: the same tests, through the shims and the client",
             f"Every LLM call now goes through tekton_llm_client to the Rhetor at {info['url']}.")
        env = {**base_env, "TEKTON_RHETOR_TEST_URL": info["url"], "TEKTON_RHETOR_TEST_WS_URL": info["ws_url"]}
        test_all(names, work, scratch, env, outcomes, "after")
        live_calls(outcomes)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)

    ok = summary(outcomes)
    finish(scratch, ok=ok, keep=args.keep)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
