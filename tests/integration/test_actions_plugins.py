"""The example plugin (examples/levante-example-actions), really installed with pip.

pip installs it into a temporary target directory (no change to the
virtualenv), which then goes on sys.path: its entry points are found exactly
as an installed distribution's would be.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from levante.actions import (
    ActionCatalogue,
    ActionContext,
    ExecutionContext,
    Failure,
    Success,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "levante-example-actions"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("example-plugin")
    source = work / "source"
    # Build from a copy: an in-tree build would leave build/ and egg-info behind.
    shutil.copytree(EXAMPLE, source)
    target = work / "site"
    # With setuptools in the environment the build needs no index; without
    # it pip fetches the build backend from the package index.
    offline = ["--no-build-isolation", "--no-index"]
    if importlib.util.find_spec("setuptools") is None:
        offline = []
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *offline]
        + ["--target", str(target), str(source)],
        check=True,
        timeout=300,
    )
    return target


@pytest.fixture
def catalogue(installed: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ActionCatalogue]:
    monkeypatch.syspath_prepend(str(installed))
    monkeypatch.delenv("LEVANTE_ACTION_PACKS", raising=False)
    built = ActionCatalogue.load()
    yield built
    built.close()


CONTEXT = ActionContext(
    execution=ExecutionContext(workflow_name="greeter"),
    custom_context={"correlation_id": "12da"},
)


async def test_the_example_actions_load_and_run(catalogue: ActionCatalogue) -> None:
    greet = catalogue.get("example.greet")
    checksum = catalogue.get("example.checksum")
    assert greet is not None and checksum is not None, catalogue.load_errors
    assert greet.distribution == "levante-example-actions"
    assert (greet.input, greet.blocking) == ('name, greeting="Hello"', False)
    assert (checksum.input, checksum.blocking) == ('text, algorithm="sha256", key=""', True)
    assert checksum.secret_parameters == frozenset({"key"})

    assert await catalogue.run("example.greet", {"name": "Ada"}, CONTEXT) == Success(
        {"message": "Hello, Ada!", "workflow": "greeter", "correlation_id": "12da"}
    )
    assert await catalogue.run("example.greet", {"name": " "}, CONTEXT) == Failure(
        "example.greet: name must not be empty"
    )
    signed = await catalogue.run("example.checksum", {"text": "hi", "key": "k3y"}, CONTEXT)
    assert signed == Success(hmac.new(b"k3y", b"hi", "sha256").hexdigest())
    plain = await catalogue.run("example.checksum", {"text": "hi", "algorithm": "md5"}, CONTEXT)
    assert plain == Success(hashlib.md5(b"hi").hexdigest())
    unknown = await catalogue.run(
        "example.checksum", {"text": "hi", "algorithm": "rot13", "key": "k3y"}, CONTEXT
    )
    assert unknown == Failure("example.checksum: unknown algorithm 'rot13'")
    invalid = await catalogue.run("example.greet", {"nme": "Ada"}, CONTEXT)
    assert invalid == Failure(
        "Invalid input [name=example.greet, class=GreetAction, missing=['name'], "
        "unexpected=['nme']]"
    )


@pytest.mark.parametrize(
    ("packs", "loaded"),
    [("levante-example-actions", True), ("example", True), ("other", False)],
    ids=["distribution", "prefix", "other"],
)
def test_action_packs_select_the_plugin(
    installed: Path, monkeypatch: pytest.MonkeyPatch, packs: str, loaded: bool
) -> None:
    monkeypatch.syspath_prepend(str(installed))
    catalogue = ActionCatalogue.from_env({"LEVANTE_ACTION_PACKS": packs})
    assert ("example.greet" in catalogue) is loaded
    assert ("example.checksum" in catalogue) is loaded
