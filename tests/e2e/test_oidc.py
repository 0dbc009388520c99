"""A server configured for OIDC (LEVANTE_AUTH_OIDC_*): JWTs from a provider's JWKS, end to end.

The identity provider is a JWKS endpoint in this test process with an RSA
key; tokens carry the project, the user and roles. REST (both faces) and
gRPC accept valid tokens and refuse expired, foreign or forged ones; the
project in the token is the one the server acts for.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from levante.v2 import workflow_pb2, workflow_pb2_grpc
from tests.support.net import free_port
from tests.support.system import LevanteProcess
from tests.support.tenants import call

ISSUER = "https://idp.example.test/realms/levante"
AUDIENCE = "levante-api"


class Provider:
    """A JWKS endpoint on 127.0.0.1, served from a thread."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()
        assert self._ready.wait(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def certs(request: web.Request) -> web.Response:
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            return web.json_response({"keys": [{**jwk, "kid": "main", "alg": "RS256"}]})

        app = web.Application()
        app.router.add_get("/certs", certs)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    def token(self, *, key: Any = None, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "dana",
            "project_id": "project-oidc",
            "roles": ["member"],
            "iat": now,
            "exp": now + 600,
            **claims,
        }
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": "main"})


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    found = Provider()
    yield found
    found.stop()


@pytest.fixture(scope="module")
def server(
    provider: Provider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LevanteProcess]:
    system = LevanteProcess(
        tmp_path_factory.mktemp("levante-oidc"),
        extra_env={
            "LEVANTE_AUTH_OIDC_ISSUER": ISSUER,
            "LEVANTE_AUTH_OIDC_AUDIENCE": AUDIENCE,
            "LEVANTE_AUTH_OIDC_JWKS_URL": f"http://127.0.0.1:{provider.port}/certs",
        },
    )
    system.start()
    yield system
    system.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_token_acts_for_its_project(server: LevanteProcess, provider: Provider) -> None:
    token = provider.token()
    definition = "version: '2.0'\noidc_wf:\n  tasks:\n    t: {action: std.noop}\n"
    status, created = call(server, None, "POST", "/v2/workflows", definition, headers=bearer(token))
    assert status == 201, created
    assert created["workflows"][0]["project_id"] == "project-oidc"
    status, listed = call(server, None, "GET", "/levante/v2/workflows", headers=bearer(token))
    assert status == 200 and [w["workflowName"] for w in listed["workflows"]] == ["oidc_wf"]
    with grpc.insecure_channel(server.grpc_address) as channel:
        stub = workflow_pb2_grpc.WorkflowsServiceStub(channel)
        found = stub.ListWorkflows(
            workflow_pb2.ListWorkflowsRequest(), metadata=(("authorization", f"Bearer {token}"),)
        )
        assert [w.project_id for w in found.workflows] == ["project-oidc"]
    # Another project's token does not see it.
    other = provider.token(project_id="project-elsewhere", sub="erin")
    status, listed = call(server, None, "GET", "/v2/workflows", headers=bearer(other))
    assert status == 200 and listed["workflows"] == []


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": int(time.time()) - 3600}, "Token has expired"),
        ({"aud": "another-service"}, "not meant for this service"),
        ({"iss": "https://evil.example.test"}, "not issued by the configured issuer"),
        ({"key": rsa.generate_private_key(public_exponent=65537, key_size=2048)}, "Invalid"),
    ],
    ids=["expired", "audience", "issuer", "forged"],
)
def test_bad_tokens_are_401(
    server: LevanteProcess, provider: Provider, claims: dict[str, Any], message: str
) -> None:
    token = provider.token(**claims)
    status, answer = call(server, None, "GET", "/v2/workflows", headers=bearer(token))
    assert status == 401 and message in answer["faultstring"], answer
    status, answer = call(server, None, "GET", "/levante/v2/workflows", headers=bearer(token))
    assert status == 401 and message in answer["message"], answer
