"""Secret values: sealed (encrypted) in storage, masked wherever they would be shown.

What is secret in an execution (the pike "secure sensitive data" spec):
the values of its workflow's `hidden` variables (names or glob patterns,
matched against the top-level keys of input, vars, published variables and
output), and every value an action gets that contains one of those.

- **At rest** a secret value is replaced by an envelope,
  `{"__levante_secret__": "<Fernet token>"}`, at the top level of the JSON
  columns the engine writes (execution input, context, output and published
  globals; task published values, inbound context, result and items; action
  input and output; sub-workflow records). The engine opens envelopes when it
  loads an execution and works on plain values in memory; the executor opens
  those in an action's input just before running it. Workflows without
  hidden variables never pay for any of this.
- **Every execution tree keeps the list of its secret texts**, encrypted, in
  its root execution's `secrets` column. The engine uses it to seal action
  inputs and results that contain a secret and to mask error messages; the
  API to mask secrets wherever they appear (`redact`), as `******`.
- **Logs**: every process remembers the secret texts it sealed or opened
  (`remember`), and a structlog processor (`scrub_log_event`) masks them in
  every log line.

Keys: LEVANTE_ENCRYPTION_KEY holds Fernet keys, comma-separated; the first
encrypts, all decrypt, so a key is rotated by putting the new one first and
keeping the old ones while anything sealed with them is kept (see README).
Without it, a key is generated once in the data dir (fine for one process;
every process of an installation needs the same key).

The vault is configured once per process by its composition root
(`configure`): the engine's store, its events and the executor reach it
through this module rather than through every function signature between
them, as the log processor has to anyway.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping, Sequence
from fnmatch import translate
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from levante.errors import InputError, InternalError

ENVELOPE = "__levante_secret__"
MASK = "******"
#: Secret texts shorter than this are masked where they are hidden values, but
#: not searched for inside other text (masking every "1" or "on" helps no one).
MIN_SCRUB_LENGTH = 4
KEY_FILE = "encryption.key"


class SecretError(InternalError):
    """A sealed value cannot be opened: the key that sealed it is not configured."""


class Vault:
    """Seals and opens values with Fernet keys (the first encrypts, all decrypt)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("a vault needs at least one key")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except (ValueError, TypeError):
            raise InputError(
                "LEVANTE_ENCRYPTION_KEY must hold Fernet keys (32 url-safe base64-encoded "
                "bytes each, comma-separated), as Fernet.generate_key() makes them"
            ) from None
        self._tokens: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, keys: Sequence[str], data_dir: Path) -> Vault:
        """The configured keys, or the data dir's own key (generated on first use)."""
        if keys:
            return cls(keys)
        path = data_dir / KEY_FILE
        try:
            return cls([path.read_text().strip()])
        except FileNotFoundError:
            pass
        data_dir.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key().decode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of this data dir was first
            return cls([path.read_text().strip()])
        with os.fdopen(fd, "w") as file:
            file.write(key + "\n")
        return cls([key])

    def encrypt(self, text: str) -> str:
        """A token for `text`; the same text gets the same token while it is remembered,
        so unchanged values are not rewritten with new ciphertext on every save."""
        with self._lock:
            token = self._tokens.get(text)
            if token is not None:
                self._tokens.move_to_end(text)
                return token
        token = self._fernet.encrypt(text.encode()).decode()
        with self._lock:
            self._tokens[text] = token
            if len(self._tokens) > 4096:
                self._tokens.popitem(last=False)
        return token

    def decrypt(self, token: str) -> str:
        """The text of a token; raises SecretError for a token no configured key opens."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError, TypeError):
            raise SecretError(
                "A hidden value cannot be decrypted: it was sealed with a key that is not in "
                "LEVANTE_ENCRYPTION_KEY (every Levante process needs the same keys)"
            ) from None

    def rotate(self, token: str) -> str:
        """The token re-encrypted with the first key."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except (InvalidToken, ValueError, TypeError):
            raise SecretError(
                "A hidden value cannot be decrypted with the configured keys"
            ) from None

    def seal(self, value: Any) -> dict[str, str]:
        """The envelope of a JSON value."""
        return {ENVELOPE: self.encrypt(json.dumps(value, sort_keys=True))}

    def open(self, envelope: Mapping[str, Any]) -> Any:
        """The value inside an envelope."""
        return json.loads(self.decrypt(envelope[ENVELOPE]))


# -- the process's vault -----------------------------------------------------

_vault: Vault | None = None


def configure(vault: Vault) -> None:
    """Makes `vault` the process's vault (the composition root calls this once)."""
    global _vault
    _vault = vault


def vault() -> Vault:
    """The process's vault; a process that never configured one gets a throwaway key.

    (Unit tests and tools that seal nothing persistent.)
    """
    global _vault
    if _vault is None:
        _vault = Vault([Fernet.generate_key().decode()])
    return _vault


# -- what is secret ----------------------------------------------------------


def is_envelope(value: Any) -> bool:
    """Whether `value` is a sealed value."""
    return isinstance(value, dict) and len(value) == 1 and ENVELOPE in value


@lru_cache(maxsize=1024)
def _pattern(hidden: tuple[str, ...]) -> re.Pattern[str] | None:
    if not hidden:
        return None
    return re.compile("|".join(f"(?:{translate(p)})" for p in hidden))


def is_hidden(name: str, hidden: tuple[str, ...]) -> bool:
    """Whether a variable name matches one of the hidden names or patterns."""
    pattern = _pattern(hidden)
    return pattern is not None and pattern.match(name) is not None


def texts_of(value: Any) -> set[str]:
    """The texts a secret value would show as: its string and number leaves."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item:
                found.add(item)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int | float):
            found.add(json.dumps(item))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


@lru_cache(maxsize=256)
def _searcher(secrets: frozenset[str]) -> re.Pattern[str] | None:
    texts = sorted((s for s in secrets if len(s) >= MIN_SCRUB_LENGTH), key=len, reverse=True)
    if not texts:
        return None
    return re.compile("|".join(re.escape(t) for t in texts))


def contains_secret(value: Any, secrets: frozenset[str]) -> bool:
    """Whether the JSON text of `value` shows one of `secrets`."""
    if not secrets:
        return False
    searcher = _searcher(secrets)
    if isinstance(value, str):
        if value in secrets:
            return True
        return searcher is not None and searcher.search(value) is not None
    if is_envelope(value) or value is None or isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return json.dumps(value) in secrets
    text = json.dumps(value, ensure_ascii=False)
    return searcher is not None and (
        searcher.search(text) is not None or any(t in secrets for t in texts_of(value))
    )


def scrub(text: str, secrets: frozenset[str]) -> str:
    """`text` with every occurrence of a secret replaced by the mask."""
    if not text or not secrets:
        return text
    if text in secrets:
        return MASK
    searcher = _searcher(secrets)
    return searcher.sub(MASK, text) if searcher is not None else text


def redact(value: Any, secrets: frozenset[str] = frozenset()) -> Any:
    """A copy of `value` for display: envelopes and secrets masked, at any depth."""
    if is_envelope(value):
        return MASK
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {
            (scrub(k, secrets) if isinstance(k, str) else k): redact(v, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    if secrets and isinstance(value, int | float) and not isinstance(value, bool):
        return MASK if json.dumps(value) in secrets else value
    return value


# -- sealing and opening the top level of stored values ----------------------


def seal_mapping(
    value: Any,
    *,
    hidden: tuple[str, ...] = (),
    secrets: frozenset[str] = frozenset(),
    found: set[str] | None = None,
) -> Any:
    """`value` with its top-level entries sealed: those named by `hidden`, and those
    showing one of `secrets`. Texts of newly sealed values are added to `found`."""
    if not isinstance(value, dict) or not (hidden or secrets):
        return value
    sealed: dict[str, Any] | None = None
    for key, item in value.items():
        if is_envelope(item):
            continue
        if (hidden and is_hidden(key, hidden)) or contains_secret(item, secrets):
            if sealed is None:
                sealed = dict(value)
            sealed[key] = vault().seal(item)
            if found is not None and hidden and is_hidden(key, hidden):
                found.update(texts_of(item))
    return value if sealed is None else sealed


def seal_value(value: Any, secrets: frozenset[str]) -> Any:
    """A whole value (a task's result) sealed when it shows one of `secrets`; a
    mapping has its entries sealed instead."""
    if isinstance(value, dict):
        return seal_mapping(value, secrets=secrets)
    if contains_secret(value, secrets):
        return vault().seal(value)
    return value


def open_value(value: Any, *, found: set[str] | None = None) -> Any:
    """`value` with envelopes at its top level (or itself one) opened; the texts
    of what was opened are added to `found`."""
    if is_envelope(value):
        opened = vault().open(value)
        if found is not None:
            found.update(texts_of(opened))
        return opened
    if isinstance(value, dict):
        if not any(is_envelope(item) for item in value.values()):
            return value
        return {k: open_value(v, found=found) if is_envelope(v) else v for k, v in value.items()}
    return value


def seal_texts(texts: Iterable[str]) -> str:
    """A tree's secret texts, as stored in its root's `secrets` column."""
    return vault().encrypt(json.dumps(sorted(texts)))


def open_texts(column: str | None) -> frozenset[str]:
    """The secret texts of a `secrets` column (none when empty)."""
    if not column:
        return frozenset()
    texts = frozenset(json.loads(vault().decrypt(column)))
    remember(texts)
    return texts


def readable_texts(column: str | None) -> frozenset[str]:
    """`open_texts` for display: a column this process cannot open (another key) reads as
    empty, with a warning; sealed values still show as the mask."""
    try:
        return open_texts(column)
    except SecretError as error:
        import structlog

        structlog.get_logger(__name__).warning("cannot read a tree's secrets", error=error.message)
        return frozenset()


# -- logs --------------------------------------------------------------------

_MAX_REMEMBERED = 10_000
_remembered: OrderedDict[str, None] = OrderedDict()
_remembered_lock = threading.Lock()
_remembered_set: frozenset[str] = frozenset()


def remember(texts: Collection[str]) -> None:
    """Adds secret texts this process handled; its log lines mask them from now on."""
    global _remembered_set
    new = [t for t in texts if t not in _remembered_set]
    if not new:
        return
    with _remembered_lock:
        for text in new:
            _remembered[text] = None
        while len(_remembered) > _MAX_REMEMBERED:
            _remembered.popitem(last=False)
        _remembered_set = frozenset(_remembered)


def remembered() -> frozenset[str]:
    """The secret texts this process masks in its logs."""
    return _remembered_set


def scrub_log_event(logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: masks remembered secrets in every value of a log event."""
    secrets = _remembered_set
    if not secrets:
        return event
    return {key: _scrub_loggable(value, secrets) for key, value in event.items()}


def _scrub_loggable(value: Any, secrets: frozenset[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict | list | tuple):
        return redact(json.loads(json.dumps(value, default=str)), secrets)
    if isinstance(value, BaseException):
        return scrub(str(value), secrets)
    return value


__all__ = [
    "ENVELOPE",
    "MASK",
    "SecretError",
    "Vault",
    "configure",
    "contains_secret",
    "is_envelope",
    "is_hidden",
    "open_texts",
    "open_value",
    "readable_texts",
    "redact",
    "remember",
    "remembered",
    "scrub",
    "scrub_log_event",
    "seal_mapping",
    "seal_texts",
    "seal_value",
    "texts_of",
    "vault",
]
