"""Hardening, end to end on one server: TLS, size and rate limits, expressions, the SSRF guard.

The server speaks TLS only (a self-signed certificate naming `localhost`,
so the api's own loopback channels to 127.0.0.1 check it by that name), has
authentication on, small size limits, a low execution rate and a short
expression deadline.
"""

from __future__ import annotations

import datetime
import http.client
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from levante.v2 import execution_pb2, execution_pb2_grpc, workflow_pb2, workflow_pb2_grpc
from tests.support.net import eventually
from tests.support.system import LevanteProcess
from tests.support.tenants import A, C, tokens_file

RATE = 4


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "tls.crt", directory / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LevanteProcess]:
    data_dir = tmp_path_factory.mktemp("levante-hardening")
    cert, key = _certificate(data_dir)
    system = LevanteProcess(
        data_dir,
        ready="log",
        extra_env={
            "LEVANTE_AUTH_TOKENS_FILE": str(tokens_file(data_dir)),
            "LEVANTE_TLS_CERT_FILE": str(cert),
            "LEVANTE_TLS_KEY_FILE": str(key),
            "LEVANTE_RATE_LIMIT_EXECUTIONS": str(RATE),
            "LEVANTE_MAX_DEFINITION_KB": "8",
            "LEVANTE_MAX_INPUT_KB": "4",
            "LEVANTE_EXPRESSION_TIMEOUT": "1",
        },
    )
    system.start()
    yield system
    system.stop()


def _context(server: LevanteProcess) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.data_dir / "tls.crt"))


def call(server: LevanteProcess, method: str, path: str, body: Any = None, token: str = A):
    """An HTTPS call by name (`localhost`, as the certificate says)."""
    headers = {"X-Auth-Token": token}
    data = None
    if isinstance(body, str):
        data, headers["Content-Type"] = body.encode(), "text/plain"
    elif body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    url = f"https://localhost:{server.rest_port}{path}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30, context=_context(server)) as response:
            return response.status, json.loads(response.read() or b"null"), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null"), error.headers


def _wait(server: LevanteProcess, execution_id: str, token: str = A) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        found = call(server, "GET", f"/v2/executions/{execution_id}", token=token)[1]
        return found if found["state"] in ("SUCCESS", "ERROR") else None

    return eventually(finished, timeout=30, interval=0.1, what="the execution to finish")


NOOP = "version: '2.0'\n{name}:\n  tasks:\n    t: {{action: std.noop}}\n"


def test_rest_speaks_tls_only(server: LevanteProcess) -> None:
    assert call(server, "GET", "/v2/workflows")[0] == 200
    # The transcoded face calls the gRPC port over TLS too (checked by name).
    assert call(server, "GET", "/levante/v2/workflows")[0] == 200
    # Plain HTTP gets no answer.
    with pytest.raises((OSError, http.client.HTTPException)):
        urllib.request.urlopen(f"http://127.0.0.1:{server.rest_port}/v2", timeout=5)


def test_grpc_speaks_tls_only(server: LevanteProcess) -> None:
    credentials = grpc.ssl_channel_credentials((server.data_dir / "tls.crt").read_bytes())
    metadata = (("x-auth-token", A),)
    with grpc.secure_channel(f"localhost:{server.grpc_port}", credentials) as channel:
        stub = workflow_pb2_grpc.WorkflowsServiceStub(channel)
        stub.ListWorkflows(workflow_pb2.ListWorkflowsRequest(), metadata=metadata, timeout=10)
    with grpc.insecure_channel(server.grpc_address) as channel:
        stub = workflow_pb2_grpc.WorkflowsServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.ListWorkflows(workflow_pb2.ListWorkflowsRequest(), metadata=metadata, timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_executions_run_with_tls_between_the_services(server: LevanteProcess) -> None:
    created = call(server, "POST", "/v2/workflows", NOOP.format(name="tls_noop"))[1]
    wf = created["workflows"][0]["id"]
    started = call(server, "POST", "/v2/executions", {"workflow_id": wf})[1]
    assert _wait(server, started["id"])["state"] == "SUCCESS"


def test_definitions_and_inputs_over_the_limits_are_413(server: LevanteProcess) -> None:
    big = NOOP.format(name="big") + "# " + "x" * 9000 + "\n"
    status, answer, _ = call(server, "POST", "/v2/workflows", big)
    assert status == 413 and "LEVANTE_MAX_DEFINITION_KB" in answer["faultstring"], answer
    status, answer, _ = call(server, "POST", "/v2/workbooks", big)
    assert status == 413, answer
    call(server, "POST", "/v2/workflows", NOOP.format(name="small_input"))
    body = {"workflow_name": "small_input", "input": {"blob": "y" * 5000}}
    status, answer, _ = call(server, "POST", "/v2/executions", body)
    assert status == 413 and "LEVANTE_MAX_INPUT_KB" in answer["faultstring"], answer
    status, answer, _ = call(
        server,
        "POST",
        "/levante/v2/executions",
        {"workflowName": "small_input", "input": {"blob": "y" * 5000}},
    )
    assert status == 400 and "LEVANTE_MAX_INPUT_KB" in answer["message"], answer


def test_a_runaway_expression_fails_its_task_not_the_engine(server: LevanteProcess) -> None:
    text = """\
version: '2.0'
runaway:
  tasks:
    spin:
      action: std.echo output=<% range(0, 1000000000000).sum() %>
"""
    wf = call(server, "POST", "/v2/workflows", text)[1]["workflows"][0]["id"]
    started = call(server, "POST", "/v2/executions", {"workflow_id": wf})[1]
    failed = _wait(server, started["id"])
    assert failed["state"] == "ERROR"
    assert "took longer than 1 s" in failed["state_info"], failed
    # The engine goes on.
    created = call(server, "POST", "/v2/workflows", NOOP.format(name="after_runaway"))[1]
    again = call(server, "POST", "/v2/executions", {"workflow_id": created["workflows"][0]["id"]})
    assert _wait(server, again[1]["id"])["state"] == "SUCCESS"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{rest_port}/v2",
        "http://localhost:{rest_port}/v2",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{rest_port}/v2",
    ],
    ids=["loopback", "name-of-loopback", "metadata-service", "ipv6-loopback"],
)
def test_std_http_cannot_reach_internal_addresses(server: LevanteProcess, url: str) -> None:
    body = {"name": "std.http", "input": {"url": url.format(rest_port=server.rest_port)}}
    status, answer, _ = call(server, "POST", "/v2/action_executions", body)
    assert status == 201, answer
    assert answer["state"] == "ERROR"
    assert "LEVANTE_HTTP_ALLOWED_HOSTS" in answer["state_info"], answer


def test_execution_starts_are_rate_limited_per_project(server: LevanteProcess) -> None:
    call(server, "POST", "/v2/workflows", NOOP.format(name="rated"), token=C)
    answers = [
        call(server, "POST", "/v2/executions", {"workflow_name": "rated"}, token=C)
        for _ in range(RATE + 1)
    ]
    assert [status for status, _, _ in answers] == [201] * RATE + [429]
    _, refused, headers = answers[-1]
    assert "LEVANTE_RATE_LIMIT_EXECUTIONS" in refused["faultstring"]
    assert int(headers["Retry-After"]) >= 1
    # Per project: another project is not affected; gRPC says RESOURCE_EXHAUSTED.
    assert call(server, "POST", "/v2/executions", {"workflow_name": "tls_noop"})[0] == 201
    credentials = grpc.ssl_channel_credentials((server.data_dir / "tls.crt").read_bytes())
    with grpc.secure_channel(f"localhost:{server.grpc_port}", credentials) as channel:
        stub = execution_pb2_grpc.ExecutionsServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused_call:
            stub.CreateExecution(
                execution_pb2.CreateExecutionRequest(
                    execution=execution_pb2.Execution(workflow_name="rated")
                ),
                metadata=(("x-auth-token", C),),
                timeout=10,
            )
        assert refused_call.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
