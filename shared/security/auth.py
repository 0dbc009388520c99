"""Authentication: a bearer token in, a `Principal` (user, project, roles) out.

Two verifiers, either or both configured (`SecuritySettings`):

- `StaticTokens`: a file of lines `TOKEN PROJECT USER ROLES` (roles
  comma-separated, `admin` makes an administrator; `#` starts a comment).
  The file is read again when it changes, so rotating a Kubernetes Secret
  needs no restart.
- `OidcVerifier`: JWTs signed by an OIDC provider, checked against its JWKS
  (signature, `iss`, `aud`, `exp`/`nbf` with a leeway for clock skew). The
  key set is cached; a token signed by a key the cache does not know makes
  it fetch the set again (key rotation), at most once per cooldown.

`Authentication` tries the static tokens first, then OIDC. Every failure is
an `UnauthenticatedError` whose message says what is wrong without echoing
the token. Transport code (the gRPC interceptor, the REST middleware) finds
the token with `token_from` and never looks at credentials itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from levante.errors import InputError, UnauthenticatedError
from levante.security.settings import SecuritySettings

ADMIN_ROLE = "admin"
#: Asymmetric algorithms only: a JWKS publishes public keys.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
MISSING = "Authentication required: send a token as X-Auth-Token or Authorization: Bearer"
INVALID = "Invalid or expired token"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a verified token speaks for."""

    user_id: str
    project_id: str
    roles: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        """Whether the token carries the `admin` role."""
        return ADMIN_ROLE in self.roles


def token_from(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> str | None:
    """The token of a request: `X-Auth-Token`, or `Authorization: Bearer ...`.

    `headers` are HTTP headers or gRPC metadata (keys compared in lower case).
    """
    items = headers.items() if isinstance(headers, Mapping) else headers
    bearer = None
    for key, value in items:
        name = key.lower()
        if isinstance(value, bytes):
            continue
        if name == "x-auth-token" and value.strip():
            return value.strip()
        if name == "authorization":
            scheme, _, credentials = value.strip().partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                bearer = credentials.strip()
    return bearer


def _digest(token: str) -> str:
    # Tokens are kept and looked up by digest: equal time for every candidate.
    return hashlib.sha256(token.encode()).hexdigest()


class StaticTokens:
    """Tokens listed in a file; re-read when the file changes (checked every few seconds)."""

    def __init__(self, path: Path, *, recheck_seconds: float = 5.0) -> None:
        self.path = path
        self._recheck = recheck_seconds
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self._tokens: dict[str, Principal] = {}
        self._load()

    def _load(self) -> None:
        try:
            stat = self.path.stat()
            text = self.path.read_text()
        except OSError as error:
            raise InputError(
                f"LEVANTE_AUTH_TOKENS_FILE {self.path}: cannot read it ({error.strerror})"
            ) from None
        self._tokens = parse_tokens(text, source=str(self.path))
        self._stamp = (stat.st_mtime_ns, stat.st_size)

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < self._recheck:
            return
        with self._lock:
            self._checked = now
            try:
                stat = os.stat(self.path)
            except OSError:
                return  # keep serving the last good file
            if (stat.st_mtime_ns, stat.st_size) != self._stamp:
                try:
                    self._load()
                except InputError:
                    pass  # a half-written file: keep the last good one, try again later

    def get(self, token: str) -> Principal | None:
        """The principal of `token`, or None when the file does not list it."""
        self._refresh()
        return self._tokens.get(_digest(token))


def parse_tokens(text: str, *, source: str = "tokens") -> dict[str, Principal]:
    """Parses `TOKEN PROJECT USER [ROLES]` lines into digest -> Principal.

    Raises InputError naming the line of a malformed entry or a repeated token.
    """
    tokens: dict[str, Principal] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) not in (3, 4):
            raise InputError(
                f"{source}, line {number}: expected `TOKEN PROJECT USER ROLES` "
                f"(roles comma-separated), got {len(fields)} field(s)"
            )
        token, project, user = fields[:3]
        roles = frozenset(r for r in (fields[3] if len(fields) == 4 else "").split(",") if r)
        key = _digest(token)
        if key in tokens:
            raise InputError(f"{source}, line {number}: this token is listed twice")
        tokens[key] = Principal(user_id=user, project_id=project, roles=roles)
    return tokens


class OidcVerifier:
    """Verifies OIDC/JWT bearer tokens against the provider's JWKS.

    Args:
        issuer: The `iss` every token must carry.
        audience: The `aud` every token must include.
        jwks_url: Where the provider publishes its signing keys.
        project_claim: The claim holding the caller's project.
        roles_claim: The claim holding its roles (a list, or a space- or
            comma-separated string); Keycloak's `realm_access.roles` counts too.
        leeway: Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
        cooldown: Minimum seconds between two fetches of the key set caused
            by unknown key ids (the set is also fetched when it is 5 minutes old).
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str,
        project_claim: str = "project_id",
        roles_claim: str = "roles",
        leeway: float = 60.0,
        cooldown: float = 30.0,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.project_claim = project_claim
        self.roles_claim = roles_claim
        self.leeway = leeway
        try:
            self._keys = jwt.PyJWKClient(
                jwks_url, cache_jwk_set=True, lifespan=300, timeout=10, cooldown_duration=cooldown
            )
        except jwt.PyJWKClientError as error:
            raise InputError(f"LEVANTE_AUTH_OIDC_JWKS_URL: {error}") from None

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; raises UnauthenticatedError saying why not.

        Blocking: it may fetch the key set over the network.
        """
        try:
            key = self._signing_key(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise UnauthenticatedError("Token has expired") from None
        except jwt.InvalidAudienceError:
            raise UnauthenticatedError("Token is not meant for this service (audience)") from None
        except jwt.InvalidIssuerError:
            raise UnauthenticatedError("Token was not issued by the configured issuer") from None
        except jwt.ImmatureSignatureError:
            raise UnauthenticatedError("Token is not valid yet") from None
        except jwt.MissingRequiredClaimError as error:
            raise UnauthenticatedError(f"Token lacks the {error.claim!r} claim") from None
        except jwt.PyJWKClientConnectionError:
            raise UnauthenticatedError(
                "Cannot verify the token: the identity provider's keys are unreachable"
            ) from None
        except jwt.PyJWTError:
            raise UnauthenticatedError(INVALID) from None
        project = claims.get(self.project_claim)
        if not isinstance(project, str) or not project:
            raise UnauthenticatedError(f"Token has no project: the {self.project_claim!r} claim")
        return Principal(
            user_id=str(claims["sub"]), project_id=project, roles=frozenset(self._roles(claims))
        )

    def _signing_key(self, token: str) -> Any:
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        if kid is None:
            # A provider with one key may leave `kid` out.
            keys = self._keys.get_signing_keys()
            if len(keys) != 1:
                raise jwt.InvalidTokenError("no kid and several keys")
            return keys[0].key
        return self._keys.get_signing_key(kid).key

    def _roles(self, claims: dict[str, Any]) -> list[str]:
        found: list[str] = []
        for value in (
            claims.get(self.roles_claim),
            (claims.get("realm_access") or {}).get("roles"),
        ):
            if isinstance(value, str):
                found += value.replace(",", " ").split()
            elif isinstance(value, list):
                found += [str(v) for v in value]
        return found


class Authentication:
    """Static tokens first, then OIDC; either may be absent (not both)."""

    def __init__(
        self, *, static: StaticTokens | None = None, oidc: OidcVerifier | None = None
    ) -> None:
        if static is None and oidc is None:
            raise ValueError("Authentication needs static tokens, OIDC, or both")
        self.static = static
        self.oidc = oidc

    @classmethod
    def from_settings(cls, settings: SecuritySettings) -> Authentication | None:
        """The configured authentication, or None when it is off; raises InputError."""
        if not settings.auth_enabled:
            return None
        static = StaticTokens(settings.tokens_file) if settings.tokens_file else None
        oidc = None
        if settings.oidc:
            assert settings.oidc_issuer and settings.oidc_audience and settings.oidc_jwks_url
            oidc = OidcVerifier(
                issuer=settings.oidc_issuer,
                audience=settings.oidc_audience,
                jwks_url=settings.oidc_jwks_url,
                project_claim=settings.oidc_project_claim,
                roles_claim=settings.oidc_roles_claim,
                leeway=settings.oidc_leeway,
            )
        return cls(static=static, oidc=oidc)

    async def authenticate(self, token: str | None) -> Principal:
        """The principal of `token`; raises UnauthenticatedError."""
        if not token:
            raise UnauthenticatedError(MISSING)
        if self.static is not None:
            found = self.static.get(token)
            if found is not None:
                return found
        if self.oidc is not None and token.count(".") == 2:
            # The key set may have to be fetched: not on the event loop.
            return await asyncio.to_thread(self.oidc.verify, token)
        raise UnauthenticatedError(INVALID)


__all__ = [
    "ADMIN_ROLE",
    "Authentication",
    "OidcVerifier",
    "Principal",
    "StaticTokens",
    "parse_tokens",
    "token_from",
]
