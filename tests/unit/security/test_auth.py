"""Authentication: the tokens file, the OIDC verifier against a live JWKS, and the composite."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from levante.errors import InputError, UnauthenticatedError
from levante.security.auth import (
    Authentication,
    OidcVerifier,
    Principal,
    StaticTokens,
    parse_tokens,
    token_from,
)
from levante.security.settings import SecuritySettings
from tests.support.net import free_port

ISSUER = "https://idp.example.test/realms/levante"
AUDIENCE = "levante"


# -- the tokens file ---------------------------------------------------------


def test_token_lines_become_principals() -> None:
    tokens = parse_tokens(
        "# a comment\n\ntok-a project-a alice admin,reader  # trailing\ntok-b project-b bob\n"
    )
    assert sorted(tokens.values(), key=lambda p: p.user_id) == [
        Principal("alice", "project-a", frozenset({"admin", "reader"})),
        Principal("bob", "project-b", frozenset()),
    ]
    assert [p.is_admin for p in sorted(tokens.values(), key=lambda p: p.user_id)] == [True, False]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tok project", "line 1: expected `TOKEN PROJECT USER ROLES`"),
        ("\ntok p u r extra", "line 2: expected"),
        ("tok p u\ntok q v", "line 2: this token is listed twice"),
    ],
    ids=["too-few-fields", "too-many-fields", "repeated-token"],
)
def test_malformed_token_files_are_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_tokens(text)


def test_the_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("old p u\n")
    tokens = StaticTokens(path, recheck_seconds=0)
    assert tokens.get("old") == Principal("u", "p")
    path.write_text("new p2 u2 admin\n")
    stamp = time.time() + 5
    os.utime(path, (stamp, stamp))
    assert tokens.get("old") is None
    assert tokens.get("new") == Principal("u2", "p2", frozenset({"admin"}))
    # A broken file keeps the last good one in service.
    path.write_text("broken\n")
    os.utime(path, (stamp + 5, stamp + 5))
    assert tokens.get("new") is not None


def test_an_unreadable_tokens_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="LEVANTE_AUTH_TOKENS_FILE .*missing"):
        StaticTokens(tmp_path / "missing")


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        ({"X-Auth-Token": "abc"}, "abc"),
        ({"Authorization": "Bearer abc"}, "abc"),
        ({"authorization": "bearer  abc "}, "abc"),
        ([("authorization", "Bearer b"), ("x-auth-token", "x")], "x"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, None),
        ({"X-Auth-Token": "  "}, None),
        ({}, None),
    ],
    ids=["x-auth-token", "bearer", "case", "x-auth-token-wins", "basic", "blank", "none"],
)
def test_the_token_of_a_request(headers: Any, token: str | None) -> None:
    assert token_from(headers) == token


# -- OIDC --------------------------------------------------------------------


class Provider:
    """An identity provider: RSA keys and a JWKS endpoint that counts its fetches."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.published: list[str] = []
        self.fetches = 0
        self.port = free_port()
        self.add_key("k1")

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/certs"

    def add_key(self, kid: str, *, publish: bool = True) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if publish:
            self.published.append(kid)

    async def certs(self, request: web.Request) -> web.Response:
        self.fetches += 1
        keys = []
        for kid in self.published:
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.keys[kid].public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return web.json_response({"keys": keys})

    def token(self, kid: str = "k1", **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "alice",
            "project_id": "project-a",
            "roles": ["member"],
            "iat": now,
            "exp": now + 300,
            **claims,
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, self.keys[kid], algorithm="RS256", headers={"kid": kid})


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    found = Provider()
    app = web.Application()
    app.router.add_get("/certs", found.certs)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", found.port).start()
    yield found
    await runner.cleanup()


def verifier(provider: Provider, **options: Any) -> OidcVerifier:
    return OidcVerifier(
        issuer=ISSUER, audience=AUDIENCE, jwks_url=provider.jwks_url, **{"cooldown": 0, **options}
    )


async def verify(check: OidcVerifier, token: str) -> Principal:
    auth = Authentication(oidc=check)
    return await auth.authenticate(token)


async def test_a_valid_token_yields_its_user_project_and_roles(provider: Provider) -> None:
    check = verifier(provider)
    principal = await verify(check, provider.token(roles=["member", "admin"]))
    assert principal == Principal("alice", "project-a", frozenset({"member", "admin"}))
    assert principal.is_admin
    # Roles as a string, and Keycloak's realm roles, count too.
    principal = await verify(
        check, provider.token(roles="a b,c", realm_access={"roles": ["admin"]})
    )
    assert principal.roles == frozenset({"a", "b", "c", "admin"})


async def test_the_key_set_is_cached(provider: Provider) -> None:
    check = verifier(provider)
    for _ in range(3):
        await verify(check, provider.token())
    assert provider.fetches == 1


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"iss": "https://other.example.test"}, "not issued by the configured issuer"),
        ({"aud": "someone-else"}, "not meant for this service"),
        ({"exp": int(time.time()) - 3600}, "Token has expired"),
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),
        ({"project_id": None}, "no project"),
        ({"sub": None}, "lacks the 'sub' claim"),
        ({"exp": None}, "lacks the 'exp' claim"),
    ],
    ids=["issuer", "audience", "expired", "not-yet-valid", "no-project", "no-subject", "no-expiry"],
)
async def test_bad_tokens_are_refused_saying_why(
    provider: Provider, claims: dict[str, Any], message: str
) -> None:
    with pytest.raises(UnauthenticatedError, match=message):
        await verify(verifier(provider), provider.token(**claims))


async def test_clock_skew_within_the_leeway_is_tolerated(provider: Provider) -> None:
    expired_a_little = provider.token(exp=int(time.time()) - 30)
    assert (await verify(verifier(provider, leeway=60), expired_a_little)).project_id
    with pytest.raises(UnauthenticatedError, match="expired"):
        await verify(verifier(provider, leeway=5), expired_a_little)


async def test_a_forged_or_garbled_token_is_refused(provider: Provider) -> None:
    check = verifier(provider)
    genuine = provider.token()
    header, payload, signature = genuine.split(".")
    forged = f"{header}.{payload[:-4]}AAAA.{signature}"
    for token in (forged, "a.b.c", f"{header}.{payload}.{signature[::-1]}"):
        with pytest.raises(UnauthenticatedError, match="Invalid or expired token"):
            await verify(check, token)
    # Signed by a key the provider never published.
    provider.add_key("rogue", publish=False)
    with pytest.raises(UnauthenticatedError, match="Invalid"):
        await verify(check, provider.token(kid="rogue"))


async def test_a_rotated_key_is_fetched_when_a_token_names_it(provider: Provider) -> None:
    check = verifier(provider)
    await verify(check, provider.token())
    assert provider.fetches == 1
    provider.add_key("k2")  # the provider rotates: k2 signs from now on
    provider.published.remove("k1")
    principal = await verify(check, provider.token(kid="k2"))
    assert principal.user_id == "alice" and provider.fetches == 2


async def test_unknown_key_ids_fetch_at_most_once_per_cooldown(provider: Provider) -> None:
    check = verifier(provider, cooldown=60)
    await verify(check, provider.token())
    provider.add_key("later", publish=False)
    for _ in range(3):
        with pytest.raises(UnauthenticatedError):
            await verify(check, provider.token(kid="later"))
    assert provider.fetches == 1


async def test_an_unreachable_provider_is_named() -> None:
    check = OidcVerifier(
        issuer=ISSUER, audience=AUDIENCE, jwks_url=f"http://127.0.0.1:{free_port()}/certs"
    )
    token = jwt.encode(
        {"sub": "x"},
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": "k"},
    )
    with pytest.raises(UnauthenticatedError, match="keys are unreachable"):
        await verify(check, token)


# -- both together -----------------------------------------------------------


@pytest.fixture
def tokens_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "tokens"
    path.write_text("static-token project-s sam admin\n")
    yield path


async def test_static_tokens_first_then_oidc(provider: Provider, tokens_file: Path) -> None:
    settings = SecuritySettings.from_env(
        {
            "LEVANTE_AUTH_TOKENS_FILE": str(tokens_file),
            "LEVANTE_AUTH_OIDC_ISSUER": ISSUER,
            "LEVANTE_AUTH_OIDC_AUDIENCE": AUDIENCE,
            "LEVANTE_AUTH_OIDC_JWKS_URL": provider.jwks_url,
        }
    )
    auth = Authentication.from_settings(settings)
    assert auth is not None
    assert (await auth.authenticate("static-token")).project_id == "project-s"
    assert (await auth.authenticate(provider.token())).project_id == "project-a"
    for token, message in ((None, "Authentication required"), ("nope", "Invalid")):
        with pytest.raises(UnauthenticatedError, match=message):
            await auth.authenticate(token)


def test_without_tokens_file_or_oidc_authentication_is_off() -> None:
    assert Authentication.from_settings(SecuritySettings.from_env({})) is None


def test_oidc_needs_all_three_settings() -> None:
    with pytest.raises(InputError, match="missing: LEVANTE_AUTH_OIDC_JWKS_URL"):
        SecuritySettings.from_env(
            {"LEVANTE_AUTH_OIDC_ISSUER": ISSUER, "LEVANTE_AUTH_OIDC_AUDIENCE": AUDIENCE}
        )


# -- between Levante's own processes -----------------------------------------


def test_internal_credentials_per_kind_of_process(tmp_path: Path) -> None:
    from levante.security.internal import InternalCredentials

    tokens = tmp_path / "tokens"
    tokens.write_text("t p u\n")
    off = SecuritySettings.from_env({})
    assert InternalCredentials.for_process(off, ["api", "engine"]) is None
    on = SecuritySettings.from_env({"LEVANTE_AUTH_TOKENS_FILE": str(tokens)})
    embedded = InternalCredentials.for_process(on, ["api", "engine", "executor", "scheduler"])
    assert embedded is not None and embedded.accepted == {embedded.token}
    other = InternalCredentials.for_process(on, ["api", "engine"])
    assert other is not None and other.token != embedded.token  # random, per process
    # Separate processes share nothing but the encryption keys.
    assert InternalCredentials.for_process(on, ["engine"]) is None
    old, new = "a" * 43 + "=", "b" * 43 + "="
    keyed = SecuritySettings.from_env(
        {"LEVANTE_AUTH_TOKENS_FILE": str(tokens), "LEVANTE_ENCRYPTION_KEY": f"{new},{old}"}
    )
    api = InternalCredentials.for_process(keyed, ["api"])
    engine = InternalCredentials.for_process(keyed, ["engine"])
    assert api is not None and engine is not None and api.token in engine.accepted
    rotating = SecuritySettings.from_env(
        {"LEVANTE_AUTH_TOKENS_FILE": str(tokens), "LEVANTE_ENCRYPTION_KEY": old}
    )
    not_yet_rotated = InternalCredentials.for_process(rotating, ["api"])
    assert not_yet_rotated is not None and not_yet_rotated.token in engine.accepted
