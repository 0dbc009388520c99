"""Plugins from entry points (group `levante.actions`), selected by LEVANTE_ACTION_PACKS.

A temporary dist-info on sys.path is a real installed distribution as far as
importlib.metadata is concerned.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from levante.actions import ActionCatalogue, ActionContext, NetworkPolicy, Success

MODULE = '''
from levante.actions import Action


class Hello(Action):
    """Says hello."""

    async def run(self, context, *, who="world"):
        return f"hello {who}"


class NotAnAction:
    pass
'''


def install_fake_distribution(root: Path, name: str, entry_points: dict[str, str]) -> None:
    (root / "fake_plugin_mod.py").write_text(MODULE)
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[levante.actions]\n{lines}\n")


@pytest.fixture
def fake_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_distribution(
        tmp_path,
        "fake-pack",
        {
            "fake.hello": "fake_plugin_mod:Hello",
            "fake.broken": "fake_plugin_mod:Missing",
            "fake.wrong": "fake_plugin_mod:NotAnAction",
            "std.hijack": "fake_plugin_mod:Hello",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))


async def test_plugins_load_and_run_and_bad_ones_are_reported(fake_plugin: None) -> None:
    catalogue = ActionCatalogue.load()
    entry = catalogue.get("fake.hello")
    assert entry is not None
    assert (entry.distribution, entry.input, entry.description) == (
        "fake-pack",
        'who="world"',
        "Says hello.",
    )
    assert await catalogue.run("fake.hello", {"who": "you"}, ActionContext()) == Success(
        "hello you"
    )
    assert "fake.broken" not in catalogue and "fake.wrong" not in catalogue
    errors = "\n".join(catalogue.load_errors)
    assert "fake.broken (fake_plugin_mod:Missing): AttributeError" in errors
    assert "fake.wrong (fake_plugin_mod:NotAnAction): TypeError" in errors
    assert "std.hijack (fake-pack): the std. prefix is reserved" in errors
    assert catalogue.get("std.echo").distribution is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("packs", "loaded"),
    [
        (None, True),
        ("", True),
        ("fake-pack", True),
        ("Fake_Pack", True),
        ("fake", True),
        ("fake.", True),
        ("fake.hello", True),
        ("other, fake", True),
        ("fak", False),
        ("other-pack", False),
        ("std", False),
    ],
    ids=lambda value: repr(value),
)
def test_packs_select_plugins_by_distribution_or_name_prefix(
    fake_plugin: None, monkeypatch: pytest.MonkeyPatch, packs: str | None, loaded: bool
) -> None:
    if packs is None:
        monkeypatch.delenv("LEVANTE_ACTION_PACKS", raising=False)
    else:
        monkeypatch.setenv("LEVANTE_ACTION_PACKS", packs)
    catalogue = ActionCatalogue.from_env(os.environ)
    assert ("fake.hello" in catalogue) is loaded
    assert "std.echo" in catalogue, "standard actions are always there"


def test_from_env_reads_the_http_allow_list() -> None:
    catalogue = ActionCatalogue.from_env({"LEVANTE_HTTP_ALLOWED_HOSTS": "10.1.0.0/16, api.local"})
    http = catalogue.get("std.http")
    assert http is not None
    action = http.factory()
    assert action._network == NetworkPolicy.parse("10.1.0.0/16,api.local")  # type: ignore[attr-defined]
