"""Plain HTTP for tests that check exact status codes and bodies."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def request(
    method: str, url: str, *, body: bytes | None = None, content_type: str = "application/json"
) -> tuple[int, Any]:
    """Sends a request; returns (status, decoded JSON body or None)."""
    message = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(message, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    return status, json.loads(raw) if raw else None


def post_json(url: str, payload: Any) -> tuple[int, Any]:
    """POSTs a JSON body."""
    return request("POST", url, body=json.dumps(payload).encode())


def post_text(url: str, text: str) -> tuple[int, Any]:
    """POSTs a text/plain body (how definitions are uploaded)."""
    return request("POST", url, body=text.encode(), content_type="text/plain")
