"""The Action base class: input signatures, validation, secrets."""

from __future__ import annotations

from typing import Any

import pytest

from levante.actions import (
    MASK,
    REQUIRED,
    Action,
    ActionContext,
    InvalidInputError,
    mask,
    scrub,
    secret,
    secret_values,
)
from levante.actions.std import STANDARD_ACTIONS


class Keywords(Action):
    """Takes keywords.

    Second paragraph, not part of the description.
    """

    async def run(self, context: ActionContext, host: str, *, port: int = 22, tags: Any = None):
        return host


class Declared(Action):
    parameters = {"context": None, "script": REQUIRED}

    def run(self, action_context: ActionContext, **action_input: Any) -> Any:
        return action_input


class Anything(Action):
    async def run(self, context: ActionContext, first: str, **rest: Any) -> Any:
        return rest


@secret("password")
class Login(Action):
    async def run(self, context: ActionContext, *, user: str, password: str) -> None:
        return None


@secret("pin")
class StrongerLogin(Login):
    pass


@pytest.mark.parametrize(
    ("action", "rendered"),
    [
        (STANDARD_ACTIONS["std.echo"], "output, delay=0"),
        (STANDARD_ACTIONS["std.noop"], ""),
        (STANDARD_ACTIONS["std.fail"], "error_data=null"),
        (STANDARD_ACTIONS["std.javascript"], "script, context=null"),
        (
            STANDARD_ACTIONS["std.http"],
            'url, method="GET", params=null, body=null, json=null, headers=null, '
            "cookies=null, auth=null, timeout=null, allow_redirects=null, proxies=null, "
            "verify=null",
        ),
        (Keywords, "host, port=22, tags=null"),
        (Declared, "context=null, script"),
        (Anything, "first, **rest"),
    ],
    ids=["echo", "noop", "fail", "javascript", "http", "keywords", "declared", "var-keyword"],
)
def test_signatures_render_like_mistral(action: type[Action], rendered: str) -> None:
    assert action.input_signature().render() == rendered


def test_binding_fills_defaults_and_names_every_problem() -> None:
    signature = Keywords.input_signature()
    assert signature.bind({"host": "h"}, name="x.k", class_name="Keywords") == {
        "host": "h",
        "port": 22,
        "tags": None,
    }
    with pytest.raises(InvalidInputError) as caught:
        signature.bind({"nope": 1, "also": 2}, name="x.k", class_name="Keywords")
    assert str(caught.value) == (
        "Invalid input [name=x.k, class=Keywords, missing=['host'], unexpected=['nope', 'also']]"
    )
    assert caught.value.missing == ["host"] and caught.value.unexpected == ["nope", "also"]
    assert Anything.input_signature().bind({"first": 1, "x": 2}, name="a", class_name="A") == {
        "first": 1,
        "x": 2,
    }


def test_run_must_take_the_context_and_receive_declared_parameters() -> None:
    class NoContext(Action):
        async def run(self) -> None:  # type: ignore[override]
            return None

    class KeywordContext(Action):
        async def run(self, *, context: ActionContext) -> None:  # type: ignore[override]
            return None

    class CannotReceive(Action):
        parameters = {"a": 1}

        async def run(self, context: ActionContext) -> None:  # type: ignore[override]
            return None

    for broken in (NoContext, KeywordContext):
        with pytest.raises(TypeError, match="must take the context"):
            broken.input_signature()
    with pytest.raises(TypeError, match=r"cannot receive declared parameters \['a'\]"):
        CannotReceive.input_signature()


def test_description_is_the_first_docstring_paragraph_and_not_inherited() -> None:
    assert Keywords.description() == "Takes keywords."

    class Undocumented(Keywords):
        pass

    assert Undocumented.description() == ""


def test_blocking_and_sync_flags() -> None:
    assert Declared.runs_blocking() and not Keywords.runs_blocking()
    assert STANDARD_ACTIONS["std.async_noop"].is_sync is False
    assert STANDARD_ACTIONS["std.mistral_http"].is_sync is False
    assert STANDARD_ACTIONS["std.http"].is_sync is True


def test_secret_marks_parameters_and_is_inherited() -> None:
    assert Login.secret_parameters == frozenset({"password"})
    assert StrongerLogin.secret_parameters == frozenset({"password", "pin"})
    assert Action.secret_parameters == frozenset()
    assert STANDARD_ACTIONS["std.email"].secret_parameters == frozenset({"smtp_password"})
    assert {"password", "private_key"} <= STANDARD_ACTIONS["std.ssh"].secret_parameters
    with pytest.raises(TypeError):
        secret()


def test_mask_replaces_secret_values_for_logging() -> None:
    given = {"user": "me", "password": "s3cret"}
    assert mask(given, Login) == {"user": "me", "password": MASK}
    assert mask(given, Login()) == {"user": "me", "password": MASK}
    assert mask(given, {"user"}) == {"user": MASK, "password": "s3cret"}
    assert given["password"] == "s3cret", "the input itself is untouched"


def test_scrub_removes_secret_text_from_nested_values() -> None:
    secrets = secret_values({"password": ["ab", "abc", 1234], "user": "me"}, Login)
    assert secrets == ("1234", "abc", "ab")
    message = {"error": "login abc failed", "tries": ["ab", 1234, "pin 1234"], "n": 1}
    assert scrub(message, secrets) == {
        "error": f"login {MASK} failed",
        "tries": [MASK, 1234, f"pin {MASK}"],
        "n": 1,
    }
    assert scrub("nothing secret", ()) == "nothing secret"
