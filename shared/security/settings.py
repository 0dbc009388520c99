"""Security settings, read from the environment in the composition root."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from levante.errors import InputError


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    """Authentication, encryption, TLS and limits.

    Environment variables (see README, "Security"):

    - LEVANTE_AUTH_TOKENS_FILE: static tokens, lines `TOKEN PROJECT USER ROLES`.
    - LEVANTE_AUTH_OIDC_ISSUER, LEVANTE_AUTH_OIDC_AUDIENCE,
      LEVANTE_AUTH_OIDC_JWKS_URL: OIDC/JWT bearer tokens (all three needed);
      LEVANTE_AUTH_OIDC_PROJECT_CLAIM (default `project_id`),
      LEVANTE_AUTH_OIDC_ROLES_CLAIM (default `roles`),
      LEVANTE_AUTH_OIDC_LEEWAY (clock skew in seconds, default 60).
      Either a tokens file or OIDC turns authentication on.
    - LEVANTE_ENCRYPTION_KEY: Fernet key(s), comma-separated; the first
      encrypts, all decrypt (rotation).
    - LEVANTE_TLS_CERT_FILE, LEVANTE_TLS_KEY_FILE: serve gRPC and REST over
      TLS; LEVANTE_TLS_CA_FILE: what this process trusts when it calls a
      Levante server (default: the certificate itself).
    - LEVANTE_RATE_LIMIT_EXECUTIONS: executions a project may start per
      minute through the API (0, the default: unlimited).
    - LEVANTE_MAX_DEFINITION_KB (default 1024), LEVANTE_MAX_INPUT_KB
      (default 1024): sizes of a definition text and of an execution's or
      action's input, params or env.
    - LEVANTE_EXPRESSION_TIMEOUT (seconds, default 10) and
      LEVANTE_EXPRESSION_MEMORY_MB (default 128): what one expression
      evaluation may take before the task fails.
    """

    tokens_file: Path | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_project_claim: str = "project_id"
    oidc_roles_claim: str = "roles"
    oidc_leeway: float = 60.0
    encryption_keys: tuple[str, ...] = ()
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_ca_file: Path | None = None
    executions_per_minute: int = 0
    max_definition_bytes: int = 1024 * 1024
    max_input_bytes: int = 1024 * 1024
    expression_timeout: float = 10.0
    expression_memory_bytes: int = 128 * 1024 * 1024

    @property
    def oidc(self) -> bool:
        """Whether OIDC bearer tokens are configured."""
        return bool(self.oidc_issuer)

    @property
    def auth_enabled(self) -> bool:
        """Authentication is on when a tokens file or OIDC is configured."""
        return self.tokens_file is not None or self.oidc

    @property
    def tls(self) -> bool:
        """Whether the servers speak TLS."""
        return self.tls_cert_file is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SecuritySettings:
        """Reads the variables; raises InputError naming a bad or missing value."""
        issuer = _text(env, "LEVANTE_AUTH_OIDC_ISSUER")
        audience = _text(env, "LEVANTE_AUTH_OIDC_AUDIENCE")
        jwks_url = _text(env, "LEVANTE_AUTH_OIDC_JWKS_URL")
        given = [
            n for n, v in (("ISSUER", issuer), ("AUDIENCE", audience), ("JWKS_URL", jwks_url)) if v
        ]
        if given and len(given) != 3:
            missing = sorted({"ISSUER", "AUDIENCE", "JWKS_URL"} - set(given))
            raise InputError(
                "OIDC needs LEVANTE_AUTH_OIDC_ISSUER, _AUDIENCE and _JWKS_URL together; missing: "
                + ", ".join(f"LEVANTE_AUTH_OIDC_{name}" for name in missing)
            )
        cert, key = _path(env, "LEVANTE_TLS_CERT_FILE"), _path(env, "LEVANTE_TLS_KEY_FILE")
        if (cert is None) != (key is None):
            raise InputError("TLS needs both LEVANTE_TLS_CERT_FILE and LEVANTE_TLS_KEY_FILE")
        keys = tuple(
            k.strip() for k in env.get("LEVANTE_ENCRYPTION_KEY", "").split(",") if k.strip()
        )
        return cls(
            tokens_file=_path(env, "LEVANTE_AUTH_TOKENS_FILE"),
            oidc_issuer=issuer,
            oidc_audience=audience,
            oidc_jwks_url=jwks_url,
            oidc_project_claim=_text(env, "LEVANTE_AUTH_OIDC_PROJECT_CLAIM") or "project_id",
            oidc_roles_claim=_text(env, "LEVANTE_AUTH_OIDC_ROLES_CLAIM") or "roles",
            oidc_leeway=_number(env, "LEVANTE_AUTH_OIDC_LEEWAY", 60.0),
            encryption_keys=keys,
            tls_cert_file=cert,
            tls_key_file=key,
            tls_ca_file=_path(env, "LEVANTE_TLS_CA_FILE"),
            executions_per_minute=int(_number(env, "LEVANTE_RATE_LIMIT_EXECUTIONS", 0, whole=True)),
            max_definition_bytes=int(_number(env, "LEVANTE_MAX_DEFINITION_KB", 1024, whole=True))
            * 1024,
            max_input_bytes=int(_number(env, "LEVANTE_MAX_INPUT_KB", 1024, whole=True)) * 1024,
            expression_timeout=_number(env, "LEVANTE_EXPRESSION_TIMEOUT", 10.0),
            expression_memory_bytes=int(
                _number(env, "LEVANTE_EXPRESSION_MEMORY_MB", 128, whole=True)
            )
            * 1024
            * 1024,
        )


def _text(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name, "").strip() or None


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = _text(env, name)
    return Path(raw) if raw else None


def _number(env: Mapping[str, str], name: str, default: float, *, whole: bool = False) -> float:
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise InputError(f"{name} must be {kind} (0 or more), got {raw!r}") from None
    if value < 0:
        raise InputError(f"{name} must not be negative, got {raw!r}")
    return value
