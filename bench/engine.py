"""Engine benchmark: the reference std.noop workflows, end to end, at growing N.

    .venv/bin/python bench/engine.py [--sizes 10,100,1000] [--repeats 3]
        [--patterns seq,par,join,multiseq,items,items_c10,large]
        [--topologies embedded,postgres] [--url URL] [--compare-url URL]

Workflows (every measured action is std.noop run by an executor, except
`large`, whose actions are std.echo run by an executor):

  seq        N tasks in a chain (t1 -> t2 -> ... -> tN)
  par        N independent tasks, all start tasks
  join       N independent tasks, each on-success -> one task with join: all
  multiseq   10 parallel chains of N/10 tasks, joined by a join: all task
  items      one task with-items over N items
  items_c10  one task with-items over N items, concurrency: 10
  large      --large-tasks (100) tasks in a chain, each echoing a
             --large-bytes (1 MB) string from the input and publishing it
             under a variable of its own (the context grows to 100 MB;
             N is ignored)
  large_same the same, every task publishing to one variable (the context
             stays at 2 MB)

Wall time = from just before POST /v2/executions until the first poll of
GET /v2/executions/<id> (every 20 ms) that sees a terminal state. ms/task =
median wall time / number of measured actions. One untimed warm-up run per
definition comes first (reported as "cold").

Topologies (each started fresh from this script, on free ports):

  embedded   one `levante server` (all services, SQLite, child nats-server)
  postgres   separate processes on PostgreSQL: api+scheduler (starts the
             embedded nats-server), engine, executor; the last two join the
             first one's NATS with LEVANTE_NATS_URL. PostgreSQL is started
             from Debian's binaries (or LEVANTE_TEST_POSTGRES_URL).

The engine's memory: before each (pattern, N) the script resets the engine
process's peak RSS (/proc/<pid>/clear_refs) and reads VmHWM afterwards, so
the "engine peak RSS" column is the peak during that row. In the embedded
topology the engine shares its process with the api, executor and scheduler.

--url measures an already running Mistral-v2-compatible server instead (and
--engine-pid names its engine process for the RSS column); --compare-url
also measures another server (e.g. real Mistral on :8990) and prints the
ratio of medians other/Levante per pattern and N.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.postgres import fresh_database, postgres_server  # noqa: E402
from tests.support.system import LevanteProcess  # noqa: E402

TERMINAL = {"SUCCESS", "ERROR", "CANCELLED"}
POLL_S = 0.020
# large_same before large: the engine keeps the memory `large` made it take.
PATTERNS = ["seq", "par", "join", "multiseq", "items", "items_c10", "large_same", "large"]
DESCRIPTION = {
    "seq": "sequence of N tasks",
    "par": "N parallel tasks",
    "join": "N parallel tasks + join: all",
    "multiseq": "10 parallel sequences of N/10 + join: all",
    "items": "with-items over N items",
    "items_c10": "with-items over N items, concurrency 10",
    "large": "sequence of tasks each publishing a large value (own variable)",
    "large_same": "sequence of tasks each publishing a large value (same variable)",
}
LARGE = ("large", "large_same")


# -- workflows ---------------------------------------------------------------


def _task(lines: list[str], name: str, on_success: str | None = None, extra=()) -> None:
    lines.append(f"    {name}:")
    lines.append("      action: std.noop")
    lines.extend(f"      {e}" for e in extra)
    if on_success:
        lines.append(f"      on-success: {on_success}")


def workflow_name(pattern: str, n: int) -> str:
    return f"bench_engine_{pattern}_{n}"


def workflow_text(pattern: str, n: int) -> str:
    """The definition of `pattern` with N measured actions."""
    lines = ["---", "version: '2.0'", "", f"{workflow_name(pattern, n)}:"]
    if pattern in ("items", "items_c10"):
        lines += ["  input:", "    - items"]
    if pattern in LARGE:
        # A small declared output: the poll must not carry the whole context.
        lines += ["  input:", "    - blob", "  output:", "    done: true"]
    lines.append("  tasks:")
    if pattern == "seq":
        for i in range(1, n + 1):
            _task(lines, f"t{i}", f"t{i + 1}" if i < n else None)
    elif pattern == "par":
        for i in range(1, n + 1):
            _task(lines, f"t{i}")
    elif pattern == "join":
        for i in range(1, n + 1):
            _task(lines, f"t{i}", "join_all")
        _task(lines, "join_all", extra=["join: all"])
    elif pattern == "multiseq":
        per = max(1, n // 10)
        for s in range(1, 11):
            for k in range(1, per + 1):
                nxt = f"s{s}_t{k + 1}" if k < per else "join_all"
                _task(lines, f"s{s}_t{k}", nxt)
        _task(lines, "join_all", extra=["join: all"])
    elif pattern in ("items", "items_c10"):
        extra = ["with-items: i in <% $.items %>"]
        if pattern == "items_c10":
            extra.append("concurrency: 10")
        _task(lines, "loop", extra=extra)
    elif pattern in LARGE:
        for i in range(1, n + 1):
            variable = f"v{i}" if pattern == "large" else "v"
            lines += [
                f"    t{i}:",
                "      action: std.echo output=<% $.blob %>",
                "      publish:",
                f"        {variable}: <% task().result %>",
            ]
            if i < n:
                lines.append(f"      on-success: t{i + 1}")
    else:
        raise ValueError(pattern)
    return "\n".join(lines) + "\n"


def workflow_input(pattern: str, n: int, large_bytes: int) -> dict:
    if pattern in ("items", "items_c10"):
        return {"items": list(range(n))}
    if pattern in LARGE:
        return {"blob": "x" * large_bytes}
    return {}


def expected(pattern: str, n: int) -> tuple[int, int]:
    """(task executions, measured actions) of a successful run."""
    if pattern in ("seq", "par", *LARGE):
        return n, n
    if pattern == "join":
        return n + 1, n + 1
    if pattern == "multiseq":
        return 10 * max(1, n // 10) + 1, 10 * max(1, n // 10) + 1
    if pattern in ("items", "items_c10"):
        return 1, n
    raise ValueError(pattern)


# -- HTTP --------------------------------------------------------------------


class Api:
    """The Mistral v2 REST face of one server."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"

    def get(self, path: str, **params) -> dict:
        response = self.session.get(self.url + path, params=params or None, timeout=120)
        response.raise_for_status()
        return response.json()

    def upload(self, name: str, text: str) -> None:
        self.session.delete(f"{self.url}/workflows/{name}", timeout=120)
        response = self.session.post(
            f"{self.url}/workflows",
            data=text.encode(),
            # Mistral answers 406 to this POST when the client asks for JSON.
            headers={"Content-Type": "text/plain", "Accept": "*/*"},
            timeout=600,
        )
        if response.status_code != 201:
            raise RuntimeError(f"upload {name}: {response.status_code} {response.text[:500]}")

    def create_execution(self, name: str, workflow_input: dict) -> dict:
        body = {"workflow_name": name, "input": json.dumps(workflow_input)}
        response = self.session.post(f"{self.url}/executions", json=body, timeout=300)
        if response.status_code != 201:
            raise RuntimeError(f"create execution: {response.status_code} {response.text[:500]}")
        return response.json()

    def execution(self, execution_id: str) -> dict:
        return self.get(f"/executions/{execution_id}")

    def cancel(self, execution_id: str) -> None:
        self.session.put(
            f"{self.url}/executions/{execution_id}", json={"state": "CANCELLED"}, timeout=60
        )

    def delete_execution(self, execution_id: str) -> None:
        self.session.delete(
            f"{self.url}/executions/{execution_id}", params={"force": "true"}, timeout=600
        )

    def tasks(self, execution_id: str) -> list[dict]:
        """Every task execution of an execution (following the `next` pages)."""
        body = self.get(
            "/tasks", workflow_execution_id=execution_id, limit=1000, fields="name,state"
        )
        tasks = list(body["tasks"])
        while body.get("next"):
            response = self.session.get(body["next"], timeout=120)
            response.raise_for_status()
            body = response.json()
            tasks += body["tasks"]
        return tasks


@dataclass
class Run:
    seconds: float | None
    state: str
    execution_id: str
    state_info: str | None = None


def run_once(
    api: Api,
    name: str,
    workflow_input: dict,
    max_run_s: float,
    *,
    engine_pid: int | None = None,
    max_rss_mb: float | None = None,
) -> Run:
    """One timed execution; TIMEOUT past `max_run_s`, MEMORY once the engine passes `max_rss_mb`."""
    started = time.perf_counter()
    execution = api.create_execution(name, workflow_input)
    state = execution["state"]
    while state not in TERMINAL:
        if time.perf_counter() - started > max_run_s:
            return Run(None, "TIMEOUT", execution["id"])
        if max_rss_mb and (rss_mb(engine_pid) or 0) > max_rss_mb:
            return Run(None, "MEMORY", execution["id"])
        time.sleep(POLL_S)
        execution = api.execution(execution["id"])
        state = execution["state"]
    return Run(time.perf_counter() - started, state, execution["id"], execution.get("state_info"))


def check_run(api: Api, pattern: str, n: int, run: Run) -> str:
    """'' when the run created what it should have; else what is wrong."""
    if run.state != "SUCCESS":
        return f"{run.state}: {run.state_info}"
    try:
        tasks = api.tasks(run.execution_id)
    except Exception as error:  # noqa: BLE001 - a report, not a verdict
        return f"cannot list tasks: {error}"
    want, _ = expected(pattern, n)
    states = sorted({t["state"] for t in tasks})
    if len(tasks) != want or states != ["SUCCESS"]:
        names = [t["name"] for t in tasks]
        dupes = sorted({x for x in names if names.count(x) > 1})
        return f"{len(tasks)} task executions (want {want}), states {states}, duplicated {dupes}"
    return ""


# -- memory ------------------------------------------------------------------


def _status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss(pid: int | None) -> bool:
    """Resets VmHWM of `pid` to its current RSS (Linux >= 4.0); False when not allowed."""
    if pid is None:
        return False
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    kb = _status_kb(pid, "VmHWM")
    return kb / 1024 if kb is not None else None


def rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    kb = _status_kb(pid, "VmRSS")
    return kb / 1024 if kb is not None else None


# -- measuring ---------------------------------------------------------------


@dataclass
class Row:
    pattern: str
    n: int
    runs: list[float] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    cold: float | None = None
    upload: float | None = None
    problem: str = ""
    peak_rss: float | None = None
    rss_after: float | None = None
    skipped: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None


def measure(
    api: Api,
    options: argparse.Namespace,
    *,
    label: str,
    engine_pid: int | None,
) -> list[Row]:
    """Measures every pattern and size against one server."""
    rows: list[Row] = []
    print(f"\n## {label} ({api.url})", flush=True)
    for pattern in options.patterns:
        sizes = [options.large_tasks] if pattern in LARGE else options.sizes
        skip = ""
        for n in sizes:
            row = Row(pattern, n)
            rows.append(row)
            if skip:
                row.skipped = skip
                print(f"{pattern:10} N={n:<5} skipped: {skip}", flush=True)
                continue
            try:
                skip = measure_row(api, options, row, engine_pid)
            except Exception as error:  # noqa: BLE001 - report it, measure the rest
                row.problem = row.problem or f"{type(error).__name__}: {error}"
                print(f"{pattern:10} N={n:<5} failed: {row.problem}", flush=True)
            row.peak_rss = peak_rss_mb(engine_pid)
            row.rss_after = rss_mb(engine_pid)
    return rows


def measure_row(api: Api, options: argparse.Namespace, row: Row, engine_pid: int | None) -> str:
    """Warm-up and timed runs of one (pattern, N); returns why larger N are skipped, or ''."""
    pattern, n = row.pattern, row.n
    name = workflow_name(pattern, n)
    workflow_input = workflow_input_for(pattern, n, options)
    started = time.perf_counter()
    api.upload(name, workflow_text(pattern, n))
    row.upload = time.perf_counter() - started
    reset_peak_rss(engine_pid)
    for index in range(options.warmup + options.repeats):
        run = run_once(
            api,
            name,
            workflow_input,
            options.max_run_s,
            engine_pid=engine_pid,
            max_rss_mb=options.max_rss_mb,
        )
        timed = index >= options.warmup
        if run.state in ("TIMEOUT", "MEMORY"):
            detail = api.execution(run.execution_id)
            api.cancel(run.execution_id)
            why = (
                f"TIMEOUT after {options.max_run_s:.0f} s"
                if run.state == "TIMEOUT"
                else f"engine RSS passed {options.max_rss_mb:.0f} MB, cancelled"
            )
            row.problem = f"{why} (state {detail.get('state')}, {progress(api, run.execution_id)})"
            print(f"{pattern:10} N={n:<5} {row.problem}", flush=True)
            return f"N={n}: {run.state}"
        problem = check_run(api, pattern, n, run) if index == options.warmup else ""
        if run.state != "SUCCESS":
            problem = problem or f"{run.state}: {run.state_info}"
        if problem and not row.problem:
            row.problem = problem
        kind = "cold" if not timed else f"rep {index - options.warmup}"
        print(
            f"{pattern:10} N={n:<5} {kind:6} {run.seconds:8.3f} s  {run.state}"
            + (f"  !! {problem}" if problem else ""),
            flush=True,
        )
        if timed:
            row.runs.append(run.seconds)
            row.states.append(run.state)
        elif row.cold is None:
            row.cold = run.seconds
        if not options.keep:
            api.delete_execution(run.execution_id)
    return ""


def workflow_input_for(pattern: str, n: int, options: argparse.Namespace) -> dict:
    return workflow_input(pattern, n, options.large_bytes)


def progress(api: Api, execution_id: str) -> str:
    try:
        tasks = api.tasks(execution_id)
    except Exception as error:  # noqa: BLE001
        return f"tasks unknown: {error}"
    counts: dict[str, int] = {}
    for t in tasks:
        counts[t["state"]] = counts.get(t["state"], 0) + 1
    return f"{len(tasks)} task executions {counts}"


# -- topologies --------------------------------------------------------------


@contextmanager
def embedded(root: Path) -> Iterator[tuple[str, int]]:
    """One `levante server` with every service, SQLite and its own nats-server."""
    system = LevanteProcess(root / "embedded", extra_env={"LEVANTE_LOG_LEVEL": "warning"})
    system.start()
    try:
        yield system.url, system.process.pid
    finally:
        system.stop(timeout=120)


def db_upgrade(data_dir: Path, database_url: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LEVANTE_DATA_DIR": str(data_dir), "LEVANTE_DATABASE_URL": database_url}
    subprocess.run(
        [sys.executable, "-m", "levante.cli", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


@contextmanager
def separate_on_postgres(root: Path) -> Iterator[tuple[str, int]]:
    """api+scheduler (with the nats-server), engine, executor: three processes, PostgreSQL."""
    with ExitStack() as stack:
        admin = stack.enter_context(postgres_server())
        url = stack.enter_context(fresh_database(admin))
        db_upgrade(root / "pg-migrate", url)
        # Info level: ready="log" waits for the "levante is up" line.
        quiet: dict[str, str] = {}
        engine = LevanteProcess(
            root / "pg-engine",
            database_url=url,
            services="engine",
            ready="log",
            extra_env=dict(quiet),
        )
        executor = LevanteProcess(
            root / "pg-executor",
            database_url=url,
            services="executor",
            ready="log",
            extra_env=dict(quiet),
        )
        api = LevanteProcess(
            root / "pg-api",
            database_url=url,
            services="api,scheduler",
            extra_env={**quiet, "LEVANTE_ENGINE_ADDRESS": engine.grpc_address},
        )
        api.start()
        stack.callback(api.stop, timeout=120)
        nats_url = f"nats://127.0.0.1:{(api.data_dir / 'nats.port').read_text().strip()}"
        for process in (engine, executor):
            process.extra_env["LEVANTE_NATS_URL"] = nats_url
            process.start()
            stack.callback(process.stop, timeout=120)
        yield api.url, engine.process.pid


TOPOLOGIES = {
    "embedded": ("Levante embedded (1 process, SQLite)", embedded),
    "postgres": (
        "Levante separate processes (api+scheduler / engine / executor, PostgreSQL)",
        separate_on_postgres,
    ),
}


# -- report ------------------------------------------------------------------


def _f(value: float | None, fmt: str = "%.3f") -> str:
    return fmt % value if value is not None else "-"


def print_table(label: str, rows: list[Row], *, rss_note: str) -> None:
    print(f"\n### {label}\n")
    print(
        "| workflow | N | runs | min s | median s | max s | ms / task | cold s "
        f"| upload s | {rss_note} | problem |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        _, actions = expected(row.pattern, row.n)
        per_task = row.median / actions * 1000 if row.median is not None else None
        print(
            f"| {DESCRIPTION[row.pattern]} | {row.n} | {len(row.runs)} "
            f"| {_f(min(row.runs) if row.runs else None)} | {_f(row.median)} "
            f"| {_f(max(row.runs) if row.runs else None)} | {_f(per_task, '%.1f')} "
            f"| {_f(row.cold)} | {_f(row.upload, '%.2f')} "
            f"| {_f(row.peak_rss, '%.0f')} / {_f(row.rss_after, '%.0f')} "
            f"| {row.skipped or row.problem} |",
            flush=True,
        )


def print_ratios(levante_label: str, ours: list[Row], other_label: str, theirs: list[Row]) -> None:
    by_key = {(r.pattern, r.n): r for r in theirs}
    print(f"\n### {other_label} / {levante_label}: ratio of median wall times\n")
    print("| workflow | N | Levante median s | other median s | other / Levante |")
    print("|---|---:|---:|---:|---:|")
    for row in ours:
        other = by_key.get((row.pattern, row.n))
        mine = row.median
        theirs_median = other.median if other else None
        ratio = theirs_median / mine if mine and theirs_median else None
        print(
            f"| {DESCRIPTION[row.pattern]} | {row.n} | {_f(mine)} | {_f(theirs_median)} "
            f"| {_f(ratio, '%.2f')} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--patterns", default=",".join(PATTERNS))
    parser.add_argument("--topologies", default="embedded,postgres")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--max-run-s", type=float, default=300.0)
    parser.add_argument("--large-tasks", type=int, default=100)
    parser.add_argument("--large-bytes", type=int, default=1_000_000)
    parser.add_argument(
        "--max-rss-mb",
        type=float,
        default=6000.0,
        help="cancel a run once the engine's RSS passes this (protects the machine)",
    )
    parser.add_argument("--url", help="measure this running server instead of starting Levante")
    parser.add_argument("--engine-pid", type=int, help="with --url: the engine's pid (RSS)")
    parser.add_argument("--compare-url", help="also measure this server and print ratios")
    parser.add_argument(
        "--compare-json",
        help="instead of --compare-url: the first target of an earlier --json file",
    )
    parser.add_argument("--json", help="write every measured row to this file")
    parser.add_argument("--keep", action="store_true", help="keep executions")
    options = parser.parse_args()
    options.sizes = [int(s) for s in options.sizes.split(",") if s]
    options.patterns = [p for p in options.patterns.split(",") if p]
    unknown = [p for p in options.patterns if p not in PATTERNS]
    if unknown:
        parser.error(f"unknown patterns {unknown}; choose from {PATTERNS}")

    print(
        f"# Levante engine benchmark  nproc={os.cpu_count()} sizes={options.sizes} "
        f"repeats={options.repeats} large={options.large_tasks}x{options.large_bytes} B",
        flush=True,
    )
    results: list[tuple[str, list[Row], str]] = []
    if options.url:
        rows = measure(Api(options.url), options, label=options.url, engine_pid=options.engine_pid)
        results.append((options.url, rows, "engine peak / RSS after MB"))
    else:
        with tempfile.TemporaryDirectory(prefix="levante-bench-") as tmp:
            for name in [t for t in options.topologies.split(",") if t]:
                label, topology = TOPOLOGIES[name]
                with topology(Path(tmp)) as (url, pid):
                    rows = measure(Api(url), options, label=label, engine_pid=pid)
                    print(
                        f"engine process {pid}: RSS now {_f(rss_mb(pid), '%.0f')} MB",
                        flush=True,
                    )
                print_table(label, rows, rss_note="engine peak / RSS after MB")
                results.append((label, rows, "engine peak / RSS after MB"))
    compared = None
    compared_label = options.compare_url
    if options.compare_json:
        target = json.loads(Path(options.compare_json).read_text())["targets"][0]
        compared_label = target["label"]
        compared = [Row(**row) for row in target["rows"]]
    elif options.compare_url:
        compared = measure(
            Api(options.compare_url), options, label=options.compare_url, engine_pid=None
        )
    if options.json:
        targets = [
            {"label": label, "rows": [asdict(r) for r in rows]} for label, rows, _ in results
        ]
        if compared is not None:
            targets.append({"label": compared_label, "rows": [asdict(r) for r in compared]})
        Path(options.json).write_text(json.dumps({"targets": targets}, indent=1))

    print("\n# Results")
    for label, rows, note in results:
        print_table(label, rows, rss_note=note)
    if compared is not None:
        print_table(compared_label, compared, rss_note="RSS MB")
        for label, rows, _ in results:
            print_ratios(label, rows, compared_label, compared)
    bad = [(label, r) for label, rows, _ in results for r in rows if r.problem]
    for label, r in bad:
        print(f"WARNING: {label}: {r.pattern} N={r.n}: {r.problem}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
