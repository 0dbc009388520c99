"""Projects with authentication on: every resource, every method, across the boundary.

One server (per database) with a tokens file: project A owns one of every
resource, the administrator publishes public ones, and project B tries
everything on A's from a table. Everything private is 404 to B (it cannot
tell whether it exists) and missing from B's lists; public resources are
readable by B and changeable only by their owner (403); `all_projects` lists
across projects for the administrator only. The same through the transcoded
face and gRPC for a representative subset, and 401 / UNAUTHENTICATED without
a valid token.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from levante.internal.v1 import engine_pb2, engine_pb2_grpc
from levante.v2 import (
    environment_pb2,
    environment_pb2_grpc,
    event_pb2,
    event_pb2_grpc,
    execution_pb2,
    execution_pb2_grpc,
    workflow_pb2,
    workflow_pb2_grpc,
)
from tests.e2e.conftest import db_upgrade
from tests.e2e.test_mistral_cli import MISTRAL
from tests.support.net import eventually
from tests.support.postgres import fresh_database
from tests.support.system import LevanteProcess
from tests.support.tenants import ADMIN, A, B, call, finished_execution, ids_of, ok, secured_process

WF_A = """\
version: '2.0'
wf_a:
  tasks:
    t1:
      action: std.noop
"""
WB_A = """\
version: '2.0'
name: wb_a
workflows:
  inner:
    tasks:
      t: {action: std.noop}
"""
ACT_A = """\
version: '2.0'
act_a:
  base: std.echo
  base-input: {output: hi}
"""
WF_PUB = WF_A.replace("wf_a", "wf_pub")
WB_PUB = WB_A.replace("wb_a", "wb_pub")
ACT_PUB = ACT_A.replace("act_a", "act_pub")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LevanteProcess]:
    """A server with authentication on (tokens file), on each database."""
    data_dir = tmp_path_factory.mktemp(f"levante-isolation-{request.param}")
    if request.param == "sqlite":
        system = secured_process(data_dir)
        system.start()
        yield system
        system.stop()
        return
    with fresh_database(request.getfixturevalue("postgres_admin_url")) as url:
        db_upgrade(data_dir, url)
        system = secured_process(data_dir)
        system.database_url = url
        system.start()
        yield system
        system.stop()


@pytest.fixture(scope="module")
def owned(server: LevanteProcess) -> dict[str, str]:
    """One of every resource, owned by project A; and public ones, owned by the admin."""
    found: dict[str, str] = {}
    found["wf"] = ok(server, A, "POST", "/v2/workflows", WF_A)["workflows"][0]["id"]
    found["wb"] = ok(server, A, "POST", "/v2/workbooks", WB_A)["id"]
    inner = ok(server, A, "GET", "/v2/workflows?name=wb_a.inner")["workflows"]
    found["wb_wf"] = inner[0]["id"]
    found["act"] = ok(server, A, "POST", "/v2/actions", ACT_A)["actions"][0]["id"]
    env = {"name": "env_a", "variables": {"k": "v"}}
    found["env"] = ok(server, A, "POST", "/v2/environments", env)["id"]
    execution = finished_execution(server, A, found["wf"])
    found["ex"] = execution["id"]
    found["task"] = ok(server, A, "GET", f"/v2/executions/{found['ex']}/tasks")["tasks"][0]["id"]
    actions = ok(server, A, "GET", f"/v2/tasks/{found['task']}/action_executions")
    found["ae"] = actions["action_executions"][0]["id"]
    trigger = {"name": "ct_a", "workflow_id": found["wf"], "pattern": "0 0 1 1 *"}
    found["ct"] = ok(server, A, "POST", "/v2/cron_triggers", trigger)["id"]
    for kind, key in (("workflows", "wf"), ("workbooks", "wb")):
        ok(server, A, "POST", f"/v2/{kind}/{found[key]}/members", {"member_id": "project-c"})
    # Public ones: only an administrator may publish.
    public = "?scope=public"
    found["wf_pub"] = ok(server, ADMIN, "POST", f"/v2/workflows{public}", WF_PUB)["workflows"][0][
        "id"
    ]
    found["wb_pub"] = ok(server, ADMIN, "POST", f"/v2/workbooks{public}", WB_PUB)["id"]
    found["act_pub"] = ok(server, ADMIN, "POST", f"/v2/actions{public}", ACT_PUB)["actions"][0][
        "id"
    ]
    env_pub = {"name": "env_pub", "variables": {"k": "p"}, "scope": "public"}
    found["env_pub"] = ok(server, ADMIN, "POST", "/v2/environments", env_pub)["id"]
    trigger_pub = {
        "name": "ct_pub",
        "workflow_id": found["wf_pub"],
        "pattern": "0 0 1 1 *",
        "scope": "public",
    }
    found["ct_pub"] = ok(server, ADMIN, "POST", "/v2/cron_triggers", trigger_pub)["id"]
    return found


@dataclass(frozen=True)
class Attempt:
    """One request of B on something of A's, and what the answer must name."""

    resource: str
    method: str
    path: str
    body: Any = None
    mentions: str = ""  # a key of `owned` (or a literal) the 404 message names


def _attempts() -> list[Attempt]:
    wf, wb, ex, task, ae = "{wf}", "{wb}", "{ex}", "{task}", "{ae}"
    rerun = {"state": "RUNNING", "reset": True}
    rows = [
        # workflows
        Attempt("workflow", "GET", f"/v2/workflows/{wf}", mentions="wf"),
        Attempt("workflow", "GET", "/v2/workflows/wf_a", mentions="wf_a"),
        Attempt("workflow", "PUT", f"/v2/workflows/{wf}", WF_A, mentions="wf"),
        Attempt("workflow", "PUT", "/v2/workflows", WF_A, mentions="wf_a"),
        Attempt("workflow", "DELETE", f"/v2/workflows/{wf}", mentions="wf"),
        Attempt("workflow", "DELETE", "/v2/workflows/wf_a", mentions="wf_a"),
        Attempt("workflow", "GET", "/v2/workflows/{wb_wf}", mentions="wb_wf"),
        # workbooks
        Attempt("workbook", "GET", "/v2/workbooks/wb_a", mentions="wb_a"),
        Attempt("workbook", "GET", f"/v2/workbooks/{wb}", mentions="wb"),
        Attempt("workbook", "PUT", "/v2/workbooks", WB_A, mentions="wb_a"),
        Attempt("workbook", "DELETE", "/v2/workbooks/wb_a", mentions="wb_a"),
        # ad-hoc actions
        Attempt("action", "GET", "/v2/actions/act_a", mentions="act_a"),
        Attempt("action", "GET", "/v2/actions/{act}", mentions="act"),
        Attempt("action", "PUT", "/v2/actions", ACT_A, mentions="act_a"),
        Attempt("action", "DELETE", "/v2/actions/act_a", mentions="act_a"),
        Attempt("action", "DELETE", "/v2/actions/{act}", mentions="act"),
        # executions
        Attempt("execution", "GET", f"/v2/executions/{ex}", mentions="ex"),
        Attempt("execution", "PUT", f"/v2/executions/{ex}", {"state": "PAUSED"}, "ex"),
        Attempt("execution", "PUT", f"/v2/executions/{ex}", {"description": "x"}, "ex"),
        Attempt("execution", "PUT", f"/v2/executions/{ex}", {"params": {"env": {"a": 1}}}, "ex"),
        Attempt("execution", "DELETE", f"/v2/executions/{ex}", mentions="ex"),
        Attempt("execution", "GET", f"/v2/executions/{ex}/tasks", mentions="ex"),
        Attempt("execution", "GET", f"/v2/executions/{ex}/report", mentions="ex"),
        Attempt("execution", "GET", f"/v2/executions/{ex}/executions", mentions="ex"),
        Attempt("execution", "GET", f"/v2/executions/{ex}/events?replay=true", mentions="ex"),
        Attempt("execution", "POST", "/v2/executions", {"workflow_id": wf}, mentions="wf"),
        Attempt("execution", "POST", "/v2/executions", {"workflow_name": "wf_a"}, "wf_a"),
        Attempt("execution", "POST", "/v2/executions", {"source_execution_id": ex}, "ex"),
        # tasks
        Attempt("task", "GET", f"/v2/tasks/{task}", mentions="task"),
        Attempt("task", "PUT", f"/v2/tasks/{task}", rerun, mentions="task"),
        Attempt("task", "GET", f"/v2/tasks/{task}/action_executions", mentions="task"),
        Attempt("task", "GET", f"/v2/tasks/{task}/executions", mentions="task"),
        # action executions
        Attempt("action execution", "GET", f"/v2/action_executions/{ae}", mentions="ae"),
        Attempt(
            "action execution",
            "PUT",
            f"/v2/action_executions/{ae}",
            {"state": "SUCCESS", "output": {"x": 1}},
            "ae",
        ),
        # cron triggers
        Attempt("cron trigger", "GET", "/v2/cron_triggers/ct_a", mentions="ct_a"),
        Attempt("cron trigger", "GET", "/v2/cron_triggers/{ct}", mentions="ct"),
        Attempt("cron trigger", "DELETE", "/v2/cron_triggers/ct_a", mentions="ct_a"),
        Attempt("cron trigger", "DELETE", "/v2/cron_triggers/{ct}", mentions="ct"),
        Attempt(
            "cron trigger",
            "POST",
            "/v2/cron_triggers",
            {"name": "ct_b", "workflow_id": wf, "pattern": "0 0 1 1 *"},
            "wf",
        ),
        # environments
        Attempt("environment", "GET", "/v2/environments/env_a", mentions="env_a"),
        Attempt(
            "environment", "PUT", "/v2/environments", {"name": "env_a", "variables": {}}, "env_a"
        ),
        Attempt("environment", "DELETE", "/v2/environments/env_a", mentions="env_a"),
    ]
    for kind, key in (("workflows", "{wf}"), ("workbooks", "{wb}")):
        base = f"/v2/{kind}/{key}/members"
        mention = key.strip("{}")
        rows += [
            Attempt("member", "POST", base, {"member_id": "project-b"}, mention),
            Attempt("member", "GET", base, mentions=mention),
            Attempt("member", "GET", f"{base}/project-c", mentions=mention),
            Attempt("member", "PUT", f"{base}/project-c", {"status": "accepted"}, mention),
            Attempt("member", "DELETE", f"{base}/project-c", mentions=mention),
            # B cannot even accept a share meant for someone else.
            Attempt("member", "PUT", f"{base}/project-b", {"status": "accepted"}, mention),
        ]
    return rows


ATTEMPTS = _attempts()


def _fill(value: Any, owned: dict[str, str]) -> Any:
    """Puts the ids of `owned` in for `{key}` (other braces, as in YAML, stay)."""
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: owned.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {k: _fill(v, owned) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    "attempt",
    ATTEMPTS,
    ids=[f"{a.resource}-{a.method}-{a.path.split('/v2/', 1)[1]}" for a in ATTEMPTS],
)
def test_another_projects_resources_do_not_exist(
    server: LevanteProcess, owned: dict[str, str], attempt: Attempt
) -> None:
    status, answer = call(
        server, B, attempt.method, _fill(attempt.path, owned), _fill(attempt.body, owned)
    )
    assert status == 404, answer
    # A not-found of the resource asked for (not a route the server lacks).
    assert owned.get(attempt.mentions, attempt.mentions) in answer["faultstring"], answer


LISTS = [
    ("/v2/workflows", "workflows", ("wf", "wb_wf")),
    ("/v2/workbooks", "workbooks", ("wb",)),
    ("/v2/actions", "actions", ("act",)),
    ("/v2/executions", "executions", ("ex",)),
    ("/v2/tasks", "tasks", ("task",)),
    ("/v2/action_executions", "action_executions", ("ae",)),
    ("/v2/cron_triggers", "cron_triggers", ("ct",)),
    ("/v2/environments", "environments", ("env",)),
]


@pytest.mark.parametrize(("path", "key", "hidden"), LISTS, ids=[row[1] for row in LISTS])
def test_lists_show_only_the_callers_and_public_resources(
    server: LevanteProcess, owned: dict[str, str], path: str, key: str, hidden: tuple[str, ...]
) -> None:
    mine = ids_of(ok(server, A, "GET", path), key)
    assert {owned[h] for h in hidden} <= mine
    theirs = ids_of(ok(server, B, "GET", path), key)
    assert not {owned[h] for h in hidden} & theirs
    # The administrator too sees A's only when asking for all projects.
    assert not {owned[h] for h in hidden} & ids_of(ok(server, ADMIN, "GET", path), key)
    everything = ids_of(ok(server, ADMIN, "GET", f"{path}?all_projects=true"), key)
    assert {owned[h] for h in hidden} <= everything
    status, answer = call(server, B, "GET", f"{path}?all_projects=true")
    assert status == 403, answer


PUBLIC = [
    # (resource, method, path, body, status for B)
    ("workflow", "GET", "/v2/workflows/{wf_pub}", None, 200),
    ("workflow", "GET", "/v2/workflows/wf_pub", None, 200),
    ("workflow", "PUT", "/v2/workflows/{wf_pub}", WF_PUB, 403),
    ("workflow", "PUT", "/v2/workflows", WF_PUB, 403),
    ("workflow", "DELETE", "/v2/workflows/{wf_pub}", None, 403),
    ("workbook", "GET", "/v2/workbooks/wb_pub", None, 200),
    ("workbook", "GET", "/v2/workbooks/{wb_pub}", None, 200),
    ("workbook", "PUT", "/v2/workbooks", WB_PUB, 403),
    ("workbook", "DELETE", "/v2/workbooks/wb_pub", None, 403),
    ("action", "GET", "/v2/actions/act_pub", None, 200),
    ("action", "GET", "/v2/actions/{act_pub}", None, 200),
    ("action", "PUT", "/v2/actions", ACT_PUB, 403),
    ("action", "DELETE", "/v2/actions/act_pub", None, 403),
    ("environment", "GET", "/v2/environments/env_pub", None, 200),
    ("environment", "PUT", "/v2/environments", {"name": "env_pub", "variables": {}}, 403),
    ("environment", "DELETE", "/v2/environments/env_pub", None, 403),
    ("cron trigger", "GET", "/v2/cron_triggers/ct_pub", None, 200),
    ("cron trigger", "GET", "/v2/cron_triggers/{ct_pub}", None, 200),
    ("cron trigger", "DELETE", "/v2/cron_triggers/ct_pub", None, 403),
]


@pytest.mark.parametrize(
    ("resource", "method", "path", "body", "status"),
    PUBLIC,
    ids=[f"{row[0]}-{row[1]}-{row[2].split('/v2/', 1)[1]}" for row in PUBLIC],
)
def test_public_resources_are_readable_by_all_and_writable_by_their_owner(
    server: LevanteProcess,
    owned: dict[str, str],
    resource: str,
    method: str,
    path: str,
    body: Any,
    status: int,
) -> None:
    got, answer = call(server, B, method, _fill(path, owned), _fill(body, owned))
    assert got == status, answer
    if status == 403:
        assert "other users" in answer["faultstring"], answer


def test_public_workflows_are_listed_and_runnable_by_every_project(
    server: LevanteProcess, owned: dict[str, str]
) -> None:
    for token in (A, B):
        assert owned["wf_pub"] in ids_of(ok(server, token, "GET", "/v2/workflows"), "workflows")
        assert "env_pub" in ids_of(
            ok(server, token, "GET", "/v2/environments"), "environments", "name"
        )
    execution = finished_execution(server, B, owned["wf_pub"])
    assert execution["project_id"] == "project-b"
    # A public environment can be used by name.
    started = ok(
        server,
        B,
        "POST",
        "/v2/executions",
        {"workflow_name": "wf_pub", "params": {"env": "env_pub"}},
    )
    assert json.loads(started["params"])["env"] == {"k": "p"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v2/workflows?scope=public", WF_A.replace("wf_a", "wf_try")),
        ("/v2/workbooks?scope=public", WB_A.replace("wb_a", "wb_try")),
        ("/v2/actions?scope=public", ACT_A.replace("act_a", "act_try")),
        ("/v2/environments", {"name": "env_try", "scope": "public"}),
        (
            "/v2/cron_triggers",
            {"name": "ct_try", "workflow_name": "wf_a", "pattern": "0 0 1 1 *", "scope": "public"},
        ),
    ],
    ids=["workflow", "workbook", "action", "environment", "cron-trigger"],
)
def test_only_administrators_publish(
    server: LevanteProcess, owned: dict[str, str], path: str, body: Any
) -> None:
    status, answer = call(server, A, "POST", path, body)
    assert status == 403, answer
    assert "insufficient permissions" in answer["faultstring"]


def test_the_owner_still_has_everything_unchanged(
    server: LevanteProcess, owned: dict[str, str]
) -> None:
    """Runs after the attempts: none of B's writes took effect."""
    assert ok(server, A, "GET", f"/v2/executions/{owned['ex']}")["state"] == "SUCCESS"
    assert ok(server, A, "GET", f"/v2/executions/{owned['ex']}")["description"] == ""
    assert json.loads(ok(server, A, "GET", "/v2/environments/env_a")["variables"]) == {"k": "v"}
    for path in (
        f"/v2/workflows/{owned['wf']}",
        "/v2/workbooks/wb_a",
        "/v2/actions/act_a",
        f"/v2/tasks/{owned['task']}",
        f"/v2/action_executions/{owned['ae']}",
        "/v2/cron_triggers/ct_a",
    ):
        ok(server, A, "GET", path)
    members = ok(server, A, "GET", f"/v2/workflows/{owned['wf']}/members")["members"]
    assert [(m["member_id"], m["status"]) for m in members] == [("project-c", "pending")]
    assert ok(server, ADMIN, "GET", f"/v2/workflows/{owned['wf_pub']}")["scope"] == "public"


# -- without a valid token ---------------------------------------------------

PROTECTED = [
    ("GET", "/v2/workflows"),
    ("POST", "/v2/workflows"),
    ("GET", "/v2/executions/anything"),
    ("GET", "/v2/tasks"),
    ("GET", "/v2/action_executions"),
    ("GET", "/v2/cron_triggers"),
    ("GET", "/v2/environments"),
    ("GET", "/v2/workbooks"),
    ("GET", "/v2/actions"),
    ("GET", "/v2/namespaces"),
    ("GET", "/v2/services"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m}-{p}" for m, p in PROTECTED])
@pytest.mark.parametrize("token", [None, "not-a-token"], ids=["missing", "invalid"])
def test_requests_without_a_valid_token_are_401(
    server: LevanteProcess, method: str, path: str, token: str | None
) -> None:
    status, answer = call(server, token, method, path, "" if method == "POST" else None)
    assert status == 401, answer
    assert answer["faultstring"] in (
        "Authentication required: send a token as X-Auth-Token or Authorization: Bearer",
        "Invalid or expired token",
    )


def test_bearer_tokens_work_and_discovery_needs_none(server: LevanteProcess) -> None:
    status, _ = call(server, None, "GET", "/v2/workflows", headers={"Authorization": "Bearer " + A})
    assert status == 200
    for path in ("/", "/v2", "/v2/openapi.json", "/levante/v2/openapi.json"):
        assert call(server, None, "GET", path)[0] == 200, path


# -- the transcoded face -----------------------------------------------------

TRANSCODED = [
    ("GET", "/levante/v2/workflows/{wf}"),
    ("DELETE", "/levante/v2/workflows/{wf}"),
    ("GET", "/levante/v2/executions/{ex}"),
    ("GET", "/levante/v2/executions/{ex}:report"),
    ("PATCH", "/levante/v2/executions/{ex}?updateMask=description"),
    ("DELETE", "/levante/v2/executions/{ex}"),
    ("GET", "/levante/v2/tasks/{task}"),
    ("POST", "/levante/v2/tasks/{task}:rerun"),
    ("GET", "/levante/v2/actionExecutions/{ae}"),
    ("GET", "/levante/v2/cronTriggers/ct_a"),
    ("DELETE", "/levante/v2/cronTriggers/ct_a"),
    ("GET", "/levante/v2/environments/env_a"),
    ("DELETE", "/levante/v2/environments/env_a"),
    ("GET", "/levante/v2/workflows/{wf}/members"),
    ("GET", "/levante/v2/workflows/{wf}/members/project-c"),
]


@pytest.mark.parametrize(("method", "path"), TRANSCODED, ids=[f"{m}-{p}" for m, p in TRANSCODED])
def test_the_transcoded_face_isolates_projects_too(
    server: LevanteProcess, owned: dict[str, str], method: str, path: str
) -> None:
    body = {} if method in ("POST", "PATCH") else None
    status, answer = call(server, B, method, _fill(path, owned), body)
    assert (status, answer["code"]) == (404, 5), answer
    status, answer = call(server, None, method, _fill(path, owned), body)
    assert (status, answer["code"]) == (401, 16), answer


def test_transcoded_lists_and_all_projects(server: LevanteProcess, owned: dict[str, str]) -> None:
    listed = ok(server, B, "GET", "/levante/v2/executions")["executions"]
    assert owned["ex"] not in {e["id"] for e in listed}
    status, answer = call(server, B, "GET", "/levante/v2/executions?allProjects=true")
    assert (status, answer["code"]) == (403, 7), answer
    listed = ok(server, ADMIN, "GET", "/levante/v2/executions?allProjects=true")["executions"]
    assert owned["ex"] in {e["id"] for e in listed}


# -- gRPC --------------------------------------------------------------------


def _metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("x-auth-token", token),)


def test_grpc_isolates_projects_and_needs_a_token(
    server: LevanteProcess, owned: dict[str, str]
) -> None:
    with grpc.insecure_channel(server.grpc_address) as channel:
        workflows = workflow_pb2_grpc.WorkflowsServiceStub(channel)
        executions = execution_pb2_grpc.ExecutionsServiceStub(channel)
        environments = environment_pb2_grpc.EnvironmentsServiceStub(channel)
        denied = [
            lambda m: workflows.GetWorkflow(
                workflow_pb2.GetWorkflowRequest(name=f"workflows/{owned['wf']}"), metadata=m
            ),
            lambda m: workflows.DeleteWorkflow(
                workflow_pb2.DeleteWorkflowRequest(name=f"workflows/{owned['wf']}"), metadata=m
            ),
            lambda m: executions.GetExecution(
                execution_pb2.GetExecutionRequest(name=f"executions/{owned['ex']}"), metadata=m
            ),
            lambda m: executions.CreateExecution(
                execution_pb2.CreateExecutionRequest(
                    execution=execution_pb2.Execution(workflow_id=owned["wf"])
                ),
                metadata=m,
            ),
            lambda m: environments.DeleteEnvironment(
                environment_pb2.DeleteEnvironmentRequest(name="environments/env_a"), metadata=m
            ),
        ]
        for attempt in denied:
            with pytest.raises(grpc.RpcError) as refused:
                attempt(_metadata(B))
            assert refused.value.code() == grpc.StatusCode.NOT_FOUND
            for metadata in ((), _metadata("not-a-token")):
                with pytest.raises(grpc.RpcError) as refused:
                    attempt(metadata)
                assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        listed = executions.ListExecutions(
            execution_pb2.ListExecutionsRequest(), metadata=_metadata(B)
        )
        assert owned["ex"] not in {e.id for e in listed.executions}
        with pytest.raises(grpc.RpcError) as refused:
            workflows.ListWorkflows(
                workflow_pb2.ListWorkflowsRequest(all_projects=True), metadata=_metadata(B)
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        everything = workflows.ListWorkflows(
            workflow_pb2.ListWorkflowsRequest(all_projects=True), metadata=_metadata(ADMIN)
        )
        assert owned["wf"] in {w.id for w in everything.workflows}
        # Bearer tokens as metadata work too; health needs no token.
        mine = workflows.GetWorkflow(
            workflow_pb2.GetWorkflowRequest(name=f"workflows/{owned['wf']}"),
            metadata=(("authorization", f"Bearer {A}"),),
        )
        assert mine.project_id == "project-a"
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        # A server stream too: watching another project's execution.
        events = event_pb2_grpc.ExecutionEventsServiceStub(channel)
        watch = event_pb2.WatchExecutionRequest(name=f"executions/{owned['ex']}", replay=True)
        for metadata, code in (
            (_metadata(B), grpc.StatusCode.NOT_FOUND),
            ((), grpc.StatusCode.UNAUTHENTICATED),
        ):
            with pytest.raises(grpc.RpcError) as refused:
                list(events.WatchExecution(watch, metadata=metadata, timeout=10))
            assert refused.value.code() == code
        mine = list(events.WatchExecution(watch, metadata=_metadata(A), timeout=10))
        assert mine and mine[-1].new_state == "SUCCESS"
        # The engine's internal service takes only the api's own service credential.
        engine = engine_pb2_grpc.EngineServiceStub(channel)
        start = engine_pb2.StartExecutionRequest(workflow_id=owned["wf"], project_id="project-a")
        for metadata in ((), _metadata(A), _metadata(ADMIN), (("x-levante-internal", "guess"),)):
            with pytest.raises(grpc.RpcError) as refused:
                engine.StartExecution(start, metadata=metadata, timeout=10)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


# -- sharing (the mitaka spec) -----------------------------------------------

SLEEPY = """\
version: '2.0'
{name}:
  input: [{{seconds: 0}}]
  tasks:
    nap:
      action: std.sleep seconds=<% $.seconds %>
"""


def _members(server: LevanteProcess, token: str, kind: str, resource: str) -> list[tuple]:
    answer = ok(server, token, "GET", f"/v2/{kind}/{resource}/members")
    return [(m["member_id"], m["status"]) for m in answer["members"]]


def test_sharing_a_workflow_pending_accepted_used_and_withdrawn(server: LevanteProcess) -> None:
    wf = ok(server, A, "POST", "/v2/workflows", SLEEPY.format(name="wf_shared"))["workflows"][0]
    base = f"/v2/workflows/{wf['id']}/members"
    created = ok(server, A, "POST", base, {"member_id": "project-b"})
    assert (created["project_id"], created["status"]) == ("project-a", "pending")
    # Pending: B sees the membership, not the workflow.
    assert _members(server, B, "workflows", wf["id"]) == [("project-b", "pending")]
    assert call(server, B, "GET", f"/v2/workflows/{wf['id']}")[0] == 404
    assert call(server, B, "POST", "/v2/executions", {"workflow_id": wf["id"]})[0] == 404
    # Only the member answers; the owner cannot accept for it.
    assert call(server, A, "PUT", f"{base}/project-b", {"status": "accepted"})[0] == 404
    ok(server, B, "PUT", f"{base}/project-b", {"status": "accepted"})
    assert _members(server, A, "workflows", wf["id"]) == [("project-b", "accepted")]
    # Accepted: listed, readable and runnable by id; never by name (UUID only, as the spec says).
    assert wf["id"] in ids_of(ok(server, B, "GET", "/v2/workflows"), "workflows")
    assert ok(server, B, "GET", f"/v2/workflows/{wf['id']}")["project_id"] == "project-a"
    assert call(server, B, "GET", "/v2/workflows/wf_shared")[0] == 404
    assert finished_execution(server, B, wf["id"])["project_id"] == "project-b"
    # B cannot change or delete it, nor share it on.
    assert call(server, B, "DELETE", f"/v2/workflows/{wf['id']}")[0] == 403
    assert call(server, B, "POST", base, {"member_id": "project-c"})[0] == 403
    # While B's cron trigger uses it, A can neither unshare nor delete it.
    trigger = {"name": "ct_shared", "workflow_id": wf["id"], "pattern": "0 0 1 1 *"}
    ct = ok(server, B, "POST", "/v2/cron_triggers", trigger)
    for method, path in (("DELETE", f"{base}/project-b"), ("DELETE", f"/v2/workflows/{wf['id']}")):
        status, answer = call(server, A, method, path)
        assert status == 400 and ct["id"] in answer["faultstring"], answer
    ok(server, B, "DELETE", f"/v2/cron_triggers/{ct['id']}")
    # Nor while B's execution of it runs.
    running = ok(
        server, B, "POST", "/v2/executions", {"workflow_id": wf["id"], "input": {"seconds": 3}}
    )
    status, answer = call(server, A, "DELETE", f"{base}/project-b")
    assert status == 400 and running["id"] in answer["faultstring"], answer
    ok(server, B, "PUT", f"/v2/executions/{running['id']}", {"state": "CANCELLED"})
    ok(server, A, "DELETE", f"{base}/project-b")
    assert call(server, B, "GET", f"/v2/workflows/{wf['id']}")[0] == 404
    assert wf["id"] not in ids_of(ok(server, B, "GET", "/v2/workflows"), "workflows")


def test_a_rejected_share_stays_invisible(server: LevanteProcess) -> None:
    wf = ok(server, A, "POST", "/v2/workflows", SLEEPY.format(name="wf_rejected"))["workflows"][0]
    base = f"/v2/workflows/{wf['id']}/members"
    ok(server, A, "POST", base, {"member_id": "project-b"})
    ok(server, B, "PUT", f"{base}/project-b", {"status": "rejected"})
    assert call(server, B, "GET", f"/v2/workflows/{wf['id']}")[0] == 404
    assert _members(server, A, "workflows", wf["id"]) == [("project-b", "rejected")]
    # A member may change its mind.
    ok(server, B, "PUT", f"{base}/project-b", {"status": "accepted"})
    assert ok(server, B, "GET", f"/v2/workflows/{wf['id']}")["id"] == wf["id"]


def test_sharing_a_workbook_shares_its_workflows_across_updates(server: LevanteProcess) -> None:
    text = WB_A.replace("wb_a", "wb_shared")
    book = ok(server, A, "POST", "/v2/workbooks", text)
    inner = ok(server, A, "GET", "/v2/workflows/wb_shared.inner")
    base = f"/v2/workbooks/{book['id']}/members"
    ok(server, A, "POST", base, {"member_id": "project-b"})
    assert call(server, B, "GET", f"/v2/workbooks/{book['id']}")[0] == 404
    ok(server, B, "PUT", f"{base}/project-b", {"status": "accepted"})
    assert ok(server, B, "GET", f"/v2/workbooks/{book['id']}")["name"] == "wb_shared"
    assert book["id"] in ids_of(ok(server, B, "GET", "/v2/workbooks"), "workbooks")
    # Its workflows come with it, and keep their ids when the workbook is updated.
    ok(server, A, "PUT", "/v2/workbooks", text.replace("std.noop", "std.echo output=2"))
    assert ok(server, A, "GET", "/v2/workflows/wb_shared.inner")["id"] == inner["id"]
    assert finished_execution(server, B, inner["id"])["project_id"] == "project-b"
    trigger = {"name": "ct_book", "workflow_id": inner["id"], "pattern": "0 0 1 1 *"}
    ok(server, B, "POST", "/v2/cron_triggers", trigger)
    for method, path in (("DELETE", f"{base}/project-b"), ("DELETE", "/v2/workbooks/wb_shared")):
        assert call(server, A, method, path)[0] == 400, path
    ok(server, B, "DELETE", "/v2/cron_triggers/ct_book")
    ok(server, A, "DELETE", "/v2/workbooks/wb_shared")
    assert call(server, B, "GET", f"/v2/workflows/{inner['id']}")[0] == 404


# -- the mistral CLI ---------------------------------------------------------


def test_the_mistral_cli_works_with_a_token(server: LevanteProcess, tmp_path: Path) -> None:
    def mistral(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                MISTRAL,
                "--os-mistral-url",
                server.url,
                "--os-auth-url",
                f"http://127.0.0.1:{server.rest_port}/identity/v3",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        )

    done = mistral("--os-auth-token", A, "workflow-list", "-f", "json")
    assert done.returncode == 0, done.stderr
    listed = {(w["Name"], w["Project ID"]) for w in json.loads(done.stdout)}
    assert ("wf_a", "project-a") in listed and ("wf_pub", "project-admin") in listed
    done = mistral("--os-auth-token", B, "workflow-list", "-f", "json")
    assert "wf_a" not in {w["Name"] for w in json.loads(done.stdout)}
    done = mistral("--os-auth-token", B, "workflow-get", "wf_a")
    assert done.returncode != 0 and "Workflow not found" in done.stderr
    done = mistral("--os-auth-token", "not-a-token", "workflow-list")
    assert done.returncode != 0


def test_workflows_cannot_use_another_projects_actions_or_sub_workflows(
    server: LevanteProcess, owned: dict[str, str]
) -> None:
    text = """\
version: '2.0'
borrows_action:
  tasks:
    t: {action: act_a}
borrows_workflow:
  tasks:
    t: {workflow: wf_a}
"""
    created = ok(server, B, "POST", "/v2/workflows", text)["workflows"]
    for workflow in created:
        started = ok(server, B, "POST", "/v2/executions", {"workflow_id": workflow["id"]})

        def failed(execution_id: str = started["id"]) -> dict[str, Any] | None:
            found = ok(server, B, "GET", f"/v2/executions/{execution_id}")
            return found if found["state"] == "ERROR" else None

        info = eventually(failed, timeout=30, what=f"{workflow['name']} to fail")["state_info"]
        assert "act_a" in info or "wf_a" in info, info
    status, answer = call(server, B, "POST", "/v2/action_executions", {"name": "act_a"})
    assert status == 400 and "act_a" in answer["faultstring"], answer
    # The owner's own workflow may use them.
    done = ok(server, A, "POST", "/v2/action_executions", {"name": "act_a"})
    assert json.loads(done["output"]) == {"result": "hi"}
