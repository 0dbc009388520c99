"""The client commands of `levante`: run, watch, report, get, list, graph.

They find the server from `--url` / LEVANTE_URL (REST) and `--grpc` /
LEVANTE_GRPC (the event stream), defaulting to the embedded ports, and
`--token` / LEVANTE_TOKEN when the server has authentication on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.text import Text

from levante.client import (
    DEFAULT_GRPC,
    DEFAULT_URL,
    RESOURCES,
    TERMINAL,
    Client,
    ClientError,
    LockedProgress,
    read_definition,
    render,
    resource,
)
from levante.client import graph as graphs
from levante.errors import LevanteError

#: Exit status of a workflow that ended in ERROR or CANCELLED.
FAILED = 1
#: Exit status after Ctrl-C (the execution goes on).
INTERRUPTED = 130


def _connection(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        (
            click.option(
                "--url",
                envvar="LEVANTE_URL",
                default=DEFAULT_URL,
                show_default=True,
                help="REST base of the server (LEVANTE_URL)",
            ),
            click.option(
                "--grpc",
                "grpc_address",
                envvar="LEVANTE_GRPC",
                default=DEFAULT_GRPC,
                show_default=True,
                help="gRPC address for live events (LEVANTE_GRPC); '' to use REST only",
            ),
            click.option(
                "--token",
                envvar="LEVANTE_TOKEN",
                default=None,
                help="authentication token (LEVANTE_TOKEN)",
            ),
        )
    ):
        command = option(command)
    return command


def _client(url: str, grpc_address: str, token: str | None) -> Client:
    return Client(url, grpc=grpc_address or None, token=token)


def _json_out(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=False))


def _parse_input(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    if text.startswith("@"):
        text = Path(text[1:]).read_text()
    try:
        value = json.loads(text)
    except ValueError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="--input") from None
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--input")
    return value


# -- run / watch ----------------------------------------------------------------

_POLL_HELP = (
    "poll the REST face every 0.3 s instead of following the event stream "
    "(the fallback when the server offers no stream)"
)


@click.command(
    short_help="upload, start and watch a workflow live",
    help="Upload FILE's workflows (create or update), start one, and watch it live.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--input", "-i", "input_text", help="workflow input: a JSON object, or @file.json")
@click.option("--workflow", "-w", help="which workflow of FILE to start (default: the first)")
@click.option("--namespace", default="", help="namespace to upload to and run in")
@click.option("--no-watch", is_flag=True, help="start it and print its id, without watching")
@click.option("--json", "as_json", is_flag=True, help="print the final execution as JSON")
@click.option("--poll", is_flag=True, help=_POLL_HELP)
@_connection
def run(
    file: Path,
    input_text: str | None,
    workflow: str | None,
    namespace: str,
    no_watch: bool,
    as_json: bool,
    poll: bool,
    url: str,
    grpc_address: str,
    token: str | None,
) -> int:
    client = _client(url, grpc_address, token)
    workflow_input = _parse_input(input_text)
    text = file.read_text()
    definition = read_definition(text)
    if workflow is None and not definition.workflows:
        raise ClientError(f"{file} defines no workflow")
    names = client.upload(text, namespace=namespace)
    name = workflow or (definition.workflows[0] if definition.workflows else names[0])
    execution = client.rest.create_execution(name, workflow_input, namespace=namespace)
    console = Console(stderr=as_json)
    if no_watch:
        if as_json:
            _json_out(execution)
        else:
            console.print(execution["id"])
        return 0
    console.print(
        Text.assemble(
            ("uploaded ", "dim"),
            (", ".join(names), "bold"),
            (" · started ", "dim"),
            (name, "bold"),
            (" · execution ", "dim"),
            (execution["id"], "cyan"),
        )
    )
    return _watch(client, execution["id"], console=console, as_json=as_json, poll=poll)


@click.command(
    short_help="watch an execution live",
    help="Watch an execution live until it ends (non-zero exit if it fails).",
)
@click.argument("execution_id")
@click.option("--json", "as_json", is_flag=True, help="print the final execution as JSON")
@click.option("--poll", is_flag=True, help=_POLL_HELP)
@_connection
def watch(
    execution_id: str, as_json: bool, poll: bool, url: str, grpc_address: str, token: str | None
) -> int:
    client = _client(url, grpc_address, token)
    client.rest.execution(execution_id)  # an unknown id fails here, with the server's message
    console = Console(stderr=as_json)
    return _watch(client, execution_id, console=console, as_json=as_json, poll=poll)


def _watch(
    client: Client, execution_id: str, *, console: Console, as_json: bool, poll: bool
) -> int:
    progress = LockedProgress(execution_id)
    started = time.monotonic()

    def view() -> RenderableType:
        with progress.lock:
            finished = progress.finished
            tree = render.progress_tree(
                progress, elapsed=None if finished else time.monotonic() - started
            )
            source = progress.source
        footer = Text(
            f"updates: {'events over ' + source if source in ('grpc', 'sse') else source}",
            style="dim",
        )
        return Group(tree, footer) if not finished else tree

    try:
        if console.is_terminal:
            with Live(get_renderable=view, console=console, refresh_per_second=8):
                for _ in client.follow(execution_id, progress=progress, poll=poll):
                    pass
        else:
            for _ in client.follow(execution_id, progress=progress, poll=poll):
                pass
            console.print(view())
    except KeyboardInterrupt:
        console.print(
            f"stopped watching; the execution goes on: levante watch {execution_id}", style="dim"
        )
        return INTERRUPTED
    final = client.rest.execution(execution_id)
    if as_json:
        _json_out(final)
    state = final.get("state", "")
    if state == "SUCCESS":
        output = final.get("output")
        if output and output != "{}" and not as_json:
            console.print(Text("output: ", style="dim") + Text(_compact(output)))
        return 0
    if state in TERMINAL:
        console.print(Text(f"execution {execution_id} ended in {state}", style="bold red"))
        console.print(render.report(client.rest.report(execution_id, errors_only=True)))
        return FAILED
    return 0


def _compact(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    text = json.dumps(value)
    return text if len(text) <= 500 else text[:499] + "…"


# -- report ---------------------------------------------------------------------


@click.command(
    short_help="why an execution failed",
    help="Explain how an execution went: root cause, path, the tree of failures.",
)
@click.argument("execution_id")
@click.option(
    "--include-trace",
    is_flag=True,
    help="the whole execution tree (every task and action), not only the failed path",
)
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@_connection
def report(
    execution_id: str,
    include_trace: bool,
    as_json: bool,
    url: str,
    grpc_address: str,
    token: str | None,
) -> int:
    client = _client(url, grpc_address, token)
    data = client.rest.report(
        execution_id, errors_only=not include_trace, include_trace=include_trace
    )
    if as_json:
        _json_out(data)
    else:
        Console().print(render.report(data))
    return 0


# -- get / list -----------------------------------------------------------------

_KINDS = sorted(RESOURCES)


def _kind(value: str) -> Any:
    try:
        return resource(value)
    except KeyError:
        raise click.BadParameter(
            f"unknown resource {value!r}; one of: {', '.join(_KINDS)}", param_hint="RESOURCE"
        ) from None


@click.command(
    name="get",
    short_help="show one resource",
    help=f"Show one resource. RESOURCE: {', '.join(_KINDS)}.",
)
@click.argument("kind", metavar="RESOURCE")
@click.argument("identifier", metavar="ID_OR_NAME")
@click.option("--json", "as_json", is_flag=True, help="print the server's JSON")
@_connection
def get_command(
    kind: str, identifier: str, as_json: bool, url: str, grpc_address: str, token: str | None
) -> int:
    res = _kind(kind)
    item = _client(url, grpc_address, token).rest.get(res, identifier)
    if as_json:
        _json_out(item)
    else:
        Console().print(render.details(item, title=res.name[:-1]))
    return 0


@click.command(
    name="list", short_help="list resources", help=f"List resources. RESOURCE: {', '.join(_KINDS)}."
)
@click.argument("kind", metavar="RESOURCE")
@click.option("--execution", "execution_id", help="tasks: of this workflow execution")
@click.option("--task", "task_id", help="action-executions / executions: of this task")
@click.option("--limit", type=int, default=100, show_default=True)
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Mistral's filters, e.g. state=ERROR or workflow_name=hello (repeatable)",
)
@click.option("--json", "as_json", is_flag=True, help="print the items as a JSON array")
@_connection
def list_command(
    kind: str,
    execution_id: str | None,
    task_id: str | None,
    limit: int,
    filters: tuple[str, ...],
    as_json: bool,
    url: str,
    grpc_address: str,
    token: str | None,
) -> int:
    res = _kind(kind)
    query: dict[str, str] = {}
    for item in filters:
        field, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not FIELD=VALUE", param_hint="--filter")
        query[field.strip()] = value
    path = None
    if execution_id and res.name == "tasks":
        path = f"/executions/{execution_id}/tasks"
    elif task_id and res.name in ("action-executions", "executions"):
        path = f"/tasks/{task_id}/{res.path}"
    elif execution_id:
        query["workflow_execution_id" if res.name != "executions" else "root_execution_id"] = (
            execution_id
        )
    items = _client(url, grpc_address, token).rest.list(res, limit=limit, filters=query, path=path)
    if as_json:
        _json_out(items)
    else:
        Console().print(render.table(items, res.columns, title=res.name))
    return 0


# -- graph ----------------------------------------------------------------------


@click.command(
    short_help="a workflow's graph as DOT or SVG",
    help="Draw a workflow's graph as Graphviz DOT (SVG with --svg, needs `dot`).",
)
@click.argument("workflow")
@click.option(
    "--file",
    "-f",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="read the workflow from this definition file instead of the server",
)
@click.option("--namespace", default="", help="namespace of the workflow on the server")
@click.option(
    "--svg",
    "svg_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write an SVG drawing here (Graphviz's dot must be installed)",
)
@_connection
def graph(
    workflow: str,
    file: Path | None,
    namespace: str,
    svg_path: Path | None,
    url: str,
    grpc_address: str,
    token: str | None,
) -> int:
    from levante import language

    if file is not None:
        text = file.read_text()
    else:
        client = _client(url, grpc_address, token)
        stored = client.rest.request(
            "GET", f"/workflows/{workflow}", query={"namespace": namespace or None}
        )
        text = stored["definition"]
    try:
        document = language.parse(text)
    except LevanteError as error:
        raise ClientError(f"the definition is not valid: {error}") from None
    specs = {spec.name: spec for spec in document.workflows}
    short = workflow.rsplit(".", 1)[-1]
    spec = specs.get(workflow) or specs.get(short)
    if spec is None:
        if file is None and len(specs) == 1:
            spec = next(iter(specs.values()))
        else:
            raise ClientError(
                f"no workflow {workflow!r} in the definition; it has: {', '.join(specs)}"
            )
    dot = graphs.to_dot(spec)
    if svg_path is None:
        click.echo(dot, nl=False)
        return 0
    try:
        svg_path.write_bytes(graphs.svg(dot))
    except graphs.GraphvizMissingError as error:
        click.echo(f"levante: {error}", err=True)
        return 1
    Console(stderr=True).print(f"wrote {svg_path}", style="dim")
    return 0


#: The commands `levante` adds to its group.
COMMANDS = (run, watch, report, get_command, list_command, graph)
