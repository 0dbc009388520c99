"""Request limits (sizes, the per-project execution rate) and the security settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from levante.errors import InputError, PayloadTooLargeError, RateLimitedError
from levante.security.limits import Limits
from levante.security.settings import SecuritySettings


def test_sizes_over_the_limit_are_refused_naming_the_setting() -> None:
    limits = Limits(max_definition_bytes=100, max_input_bytes=10)
    limits.check_definition("x" * 100)
    limits.check_definition("é" * 50)  # 100 bytes of UTF-8
    with pytest.raises(PayloadTooLargeError, match=r"definition is too large: 101 bytes.*_KB"):
        limits.check_definition("x" * 101)
    limits.check_size("input", '{"a": 1}')
    with pytest.raises(PayloadTooLargeError, match=r"The input is too large: 12 bytes, the limit"):
        limits.check_size("input", '{"a": "xyz"}')


def test_each_project_gets_its_own_allowance_refilled_over_time() -> None:
    now = [0.0]
    limits = Limits(executions_per_minute=2, clock=lambda: now[0])
    limits.admit_execution("a")
    limits.admit_execution("a")
    with pytest.raises(RateLimitedError, match="at most 2 per minute") as refused:
        limits.admit_execution("a")
    assert refused.value.retry_after == pytest.approx(30.0)
    limits.admit_execution("b")  # another project is not affected
    now[0] = 30.0  # half a minute: one more
    limits.admit_execution("a")
    with pytest.raises(RateLimitedError):
        limits.admit_execution("a")


def test_no_rate_limit_by_default() -> None:
    limits = Limits()
    for _ in range(1000):
        limits.admit_execution("a")


def test_security_settings_from_the_environment(tmp_path: Path) -> None:
    settings = SecuritySettings.from_env(
        {
            "LEVANTE_AUTH_TOKENS_FILE": str(tmp_path / "tokens"),
            "LEVANTE_ENCRYPTION_KEY": " k1 , k2 ",
            "LEVANTE_TLS_CERT_FILE": "/c.pem",
            "LEVANTE_TLS_KEY_FILE": "/k.pem",
            "LEVANTE_RATE_LIMIT_EXECUTIONS": "30",
            "LEVANTE_MAX_DEFINITION_KB": "64",
            "LEVANTE_EXPRESSION_TIMEOUT": "2.5",
        }
    )
    assert settings.auth_enabled and not settings.oidc and settings.tls
    assert settings.encryption_keys == ("k1", "k2")
    assert settings.executions_per_minute == 30
    assert settings.max_definition_bytes == 64 * 1024
    assert settings.expression_timeout == 2.5
    defaults = SecuritySettings.from_env({})
    assert not defaults.auth_enabled and not defaults.tls and defaults.encryption_keys == ()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LEVANTE_TLS_CERT_FILE": "/c.pem"}, "needs both LEVANTE_TLS_CERT_FILE and"),
        ({"LEVANTE_RATE_LIMIT_EXECUTIONS": "many"}, "must be a whole number"),
        ({"LEVANTE_EXPRESSION_TIMEOUT": "-1"}, "must not be negative"),
    ],
    ids=["cert-without-key", "not-a-number", "negative"],
)
def test_bad_security_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        SecuritySettings.from_env(env)
