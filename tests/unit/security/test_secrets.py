"""Sealing and masking secret values; the key file; rotation; the log processor."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st

from levante.errors import DefinitionError, InputError
from levante.language import parse
from levante.security import secrets
from levante.security.secrets import MASK, SecretError, Vault


@pytest.fixture(autouse=True)
def vault() -> Vault:
    found = Vault([Fernet.generate_key().decode()])
    secrets.configure(found)
    return found


@pytest.mark.parametrize(
    ("name", "hidden"),
    [("password", True), ("secret_token", True), ("secret_", True), ("user", False)],
)
def test_hidden_names_and_patterns(name: str, hidden: bool) -> None:
    assert secrets.is_hidden(name, ("password", "secret_*")) is hidden


def test_the_language_reads_the_hidden_section() -> None:
    text = "version: '2.0'\nwf:\n  hidden: secret_*\n  tasks:\n    t: {action: std.noop}\n"
    assert parse(text).workflows[0].hidden == ("secret_*",)


def test_sealed_entries_open_to_what_they_were() -> None:
    found: set[str] = set()
    value = {"user": "alice", "password": {"pin": 1234, "word": "hunter2"}}
    sealed = secrets.seal_mapping(value, hidden=("password",), found=found)
    assert sealed["user"] == "alice" and secrets.is_envelope(sealed["password"])
    assert "hunter2" not in repr(sealed)
    assert found == {"1234", "hunter2"}
    assert secrets.open_value(sealed) == value
    # Sealing again changes nothing; values showing a known secret are sealed too.
    assert secrets.seal_mapping(sealed, hidden=("password",)) == sealed
    by_value = secrets.seal_mapping({"h": "Bearer hunter2", "n": 1}, secrets=frozenset(found))
    assert secrets.is_envelope(by_value["h"]) and by_value["n"] == 1
    assert secrets.is_envelope(secrets.seal_value("x hunter2 y", frozenset(found)))


def test_equal_values_get_equal_envelopes() -> None:
    first = secrets.seal_mapping({"password": "p"}, hidden=("password",))
    assert secrets.seal_mapping({"password": "p"}, hidden=("password",)) == first


def test_redact_masks_envelopes_and_secret_texts_at_any_depth() -> None:
    sealed = secrets.seal_mapping({"password": "hunter2"}, hidden=("password",))
    value = {"a": [{"b": "the hunter2 is"}], "c": sealed["password"], "d": 7, "e": True}
    assert secrets.redact(value, frozenset({"hunter2"})) == {
        "a": [{"b": f"the {MASK} is"}],
        "c": MASK,
        "d": 7,
        "e": True,
    }
    # Very short secrets are masked as values, not searched for in text.
    assert secrets.scrub("on and on", frozenset({"on"})) == "on and on"
    assert secrets.scrub("on", frozenset({"on"})) == MASK


def test_keys_rotate_first_encrypts_all_decrypt() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = Vault([old]).encrypt("hunter2")
    rotated = Vault([new, old])
    assert rotated.decrypt(token) == "hunter2"
    fresh = rotated.rotate(token)
    assert Vault([new]).decrypt(fresh) == "hunter2"
    with pytest.raises(SecretError, match="not in LEVANTE_ENCRYPTION_KEY"):
        Vault([new]).decrypt(token)
    with pytest.raises(InputError, match="Fernet keys"):
        Vault(["not-a-key"])


def test_without_a_configured_key_the_data_dir_gets_one(tmp_path: Path) -> None:
    first = Vault.from_settings((), tmp_path)
    key_file = tmp_path / secrets.KEY_FILE
    assert oct(os.stat(key_file).st_mode & 0o777) == "0o600"
    assert Vault.from_settings((), tmp_path).decrypt(first.encrypt("x")) == "x"


def test_log_lines_mask_remembered_secrets() -> None:
    secrets.remember({"s3cr3t-value"})
    event = {"event": "calling with s3cr3t-value", "input": {"k": ["s3cr3t-value"]}, "n": 1}
    assert secrets.scrub_log_event(None, "info", event) == {
        "event": f"calling with {MASK}",
        "input": {"k": [MASK]},
        "n": 1,
    }


# -- properties --------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
NAMES = st.text(alphabet="abcdefgh_*?[]", min_size=1, max_size=8)
PROPERTY_EXAMPLES = 300


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(
    value=st.dictionaries(st.text(max_size=8), JSON, max_size=5), hidden=st.lists(NAMES, max_size=3)
)
def test_sealing_round_trips_and_hides_every_hidden_value(value: dict, hidden: list[str]) -> None:
    found: set[str] = set()
    sealed = secrets.seal_mapping(value, hidden=tuple(hidden), found=found)
    assert secrets.open_value(sealed) == value
    shown = secrets.redact(sealed, frozenset(found))
    for key in value:
        if secrets.is_hidden(key, tuple(hidden)):
            assert shown[key] == MASK
            assert secrets.is_envelope(sealed[key])


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(value=JSON, secret=st.text(alphabet=st.characters(blacklist_characters="*"), min_size=4))
def test_redacted_values_never_show_a_secret(value: object, secret: str) -> None:
    planted = {"x": value, "y": f"before {secret} after", "z": [secret]}
    shown = secrets.redact(planted, frozenset({secret}))
    keys: list[str] = []
    stack: list[object] = [shown]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            keys += list(item)
            stack += list(item.values())
        elif isinstance(item, list):
            stack += item
    assert not any(secret in text for text in [*secrets.texts_of(shown), *keys])


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(hidden=JSON)
def test_any_hidden_section_parses_or_is_a_definition_error(hidden: object) -> None:
    text = yaml.safe_dump(
        {"version": "2.0", "wf": {"hidden": hidden, "tasks": {"t": {"action": "std.noop"}}}}
    )
    try:
        document = parse(text)
    except DefinitionError:
        return
    assert all(isinstance(name, str) and name for name in document.workflows[0].hidden)
