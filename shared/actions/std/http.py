"""std.http and std.mistral_http: HTTP requests with Mistral's input and result shapes."""

from __future__ import annotations

import json as jsonlib
import ssl
import time
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import aiohttp
import structlog
from yarl import URL

from levante.actions.base import REQUIRED, Action, secret
from levante.actions.context import ActionContext
from levante.actions.results import ActionError, Failure
from levante.actions.std.netguard import GuardedResolver, NetworkPolicy, describe

log = structlog.get_logger(__name__)

#: Statuses Mistral counts as success (requests' range(200, 307)).
SUCCESS_STATUSES = range(200, 307)

HTTP_PARAMETERS: dict[str, Any] = {
    "url": REQUIRED,
    "method": "GET",
    "params": None,
    "body": None,
    "json": None,
    "headers": None,
    "cookies": None,
    "auth": None,
    "timeout": None,
    "allow_redirects": None,
    "proxies": None,
    "verify": None,
}


@secret("auth")
class HttpAction(Action):
    """Sends an HTTP request; the result holds the response content, status, headers and encoding.

    `content` is the body parsed as JSON when it is JSON, else its text. A
    status outside 200-306 fails the action with the response as error
    data. `auth` is `user:password` (basic auth). As in Mistral, redirects
    are followed only with `allow_redirects: true`, and `verify` (true,
    false or a CA bundle path) applies to https. Loopback, private and
    link-local targets are refused unless LEVANTE_HTTP_ALLOWED_HOSTS allows them.
    """

    parameters = HTTP_PARAMETERS

    def __init__(self, *, network: NetworkPolicy | None = None) -> None:
        self._network = network or NetworkPolicy()

    async def run(self, context: ActionContext, **request: Any) -> Any:
        return await self._send(request, {})

    def test(self, context: ActionContext, **request: Any) -> Any:
        return None

    async def _send(self, request: Mapping[str, Any], extra_headers: Mapping[str, str]) -> Any:
        url = URL(str(request["url"]))
        method = str(request["method"] or "GET").upper()
        body, json_body = request["body"], request["json"]
        if body is not None and json_body is not None:
            raise ActionError("Only one of the parameters 'json' and 'body' can be passed")
        if isinstance(body, dict | list):
            body = jsonlib.dumps(body)
        elif body is not None and not isinstance(body, str | bytes):
            body = str(body)
        headers = {str(k): str(v) for k, v in (request["headers"] or {}).items() if v is not None}
        authorization = _basic_auth(request["auth"])
        if authorization is not None:
            headers["Authorization"] = authorization
        headers.update(extra_headers)
        proxy = _proxy_for(url, request["proxies"])
        options: dict[str, Any] = {
            "params": request["params"],
            "data": body,
            "json": json_body,
            "headers": headers,
            "timeout": aiohttp.ClientTimeout(total=_timeout(request["timeout"])),
            "allow_redirects": bool(request["allow_redirects"]),
            "proxy": proxy,
            "ssl": _ssl_option(url, request["verify"]),
        }
        started = time.monotonic()
        try:
            self._network.check_url_host(url.host)
            if proxy is not None:
                self._network.check_url_host(URL(proxy).host)
            async with (
                aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(resolver=GuardedResolver(self._network)),
                    cookies=request["cookies"] or None,
                    trace_configs=[self._redirect_guard()],
                    trust_env=False,
                ) as session,
                session.request(method, url, **options) as response,
            ):
                raw = await response.read()
                result = _result(response, raw, time.monotonic() - started)
        except ActionError:
            raise
        except Exception as error:
            reason = describe(error) or f"{type(error).__name__}: {error}"
            raise ActionError(f"Failed to send HTTP request: {reason}") from error
        log.debug(
            "http action response",
            method=method,
            url=str(url.with_user(None)),
            status=result["status"],
        )
        if result["status"] not in SUCCESS_STATUSES:
            return Failure(
                f"HTTP request failed [method={method}, url={url.with_user(None)}, "
                f"status={result['status']}, reason={result['reason']}]",
                result,
            )
        return result

    def _redirect_guard(self) -> aiohttp.TraceConfig:
        """Checks each redirect target that is an IP literal (names meet the resolver)."""
        network = self._network

        async def on_redirect(
            session: aiohttp.ClientSession,
            context: SimpleNamespace,
            params: aiohttp.TraceRequestRedirectParams,
        ) -> None:
            location = params.response.headers.get("Location")
            if location:
                network.check_url_host(params.url.join(URL(location)).host)

        trace = aiohttp.TraceConfig()
        trace.on_request_redirect.append(on_redirect)
        return trace


class MistralHttpAction(HttpAction):
    """std.http that also sends Mistral's execution headers; asynchronous.

    The receiver completes the action later through the callback URL it is
    given in the Mistral-Callback-URL header. A failed request fails the
    action at once.
    """

    is_sync = False

    async def run(self, context: ActionContext, **request: Any) -> Any:
        execution = context.execution
        extra = {
            "Mistral-Workflow-Name": execution.workflow_name,
            "Mistral-Workflow-Execution-Id": execution.workflow_execution_id,
            "Mistral-Task-Id": execution.task_execution_id,
            "Mistral-Action-Execution-Id": execution.action_execution_id,
            "Mistral-Callback-URL": execution.callback_url,
        }
        return await self._send(request, {k: v for k, v in extra.items() if v})


def _result(response: aiohttp.ClientResponse, raw: bytes, elapsed: float) -> dict[str, Any]:
    try:
        encoding = response.get_encoding()
    except Exception:
        encoding = "utf-8"
    try:
        text = raw.decode(encoding, errors="replace")
    except LookupError:
        text = raw.decode("utf-8", errors="replace")
    try:
        content: Any = jsonlib.loads(text)
    except ValueError:
        content = text
    return {
        "content": content,
        "status": response.status,
        "headers": {k: ", ".join(response.headers.getall(k)) for k in response.headers.keys()},
        "url": str(response.url),
        "history": [str(r.url) for r in response.history],
        "encoding": encoding,
        "reason": response.reason,
        "cookies": {k: m.value for k, m in response.cookies.items()},
        "elapsed": round(elapsed, 6),
    }


def _basic_auth(auth: Any) -> str | None:
    """The Authorization header value for `user:password` or [user, password]."""
    if auth is None or auth == "":
        return None
    if isinstance(auth, str) and ":" in auth:
        user, password = auth.split(":", 1)
        return aiohttp.encode_basic_auth(user, password)
    if isinstance(auth, list | tuple) and len(auth) == 2:
        return aiohttp.encode_basic_auth(str(auth[0]), str(auth[1]))
    # The value is secret: never echo it back.
    raise ActionError("std.http: auth must be 'user:password' or [user, password]")


def _timeout(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise ActionError(f"std.http: timeout must be a number, got {value!r}") from error


def _ssl_option(url: URL, verify: Any) -> bool | ssl.SSLContext:
    if url.scheme != "https" or verify is None or verify is True:
        return True
    if verify is False or (isinstance(verify, str) and verify.lower() in ("false", "0", "no")):
        return False
    if isinstance(verify, str):
        try:
            return ssl.create_default_context(cafile=verify)
        except (OSError, ssl.SSLError) as error:
            raise ActionError(f"std.http: cannot load CA bundle {verify!r}: {error}") from error
    return True


def _proxy_for(url: URL, proxies: Any) -> str | None:
    if not proxies:
        return None
    if not isinstance(proxies, Mapping):
        raise ActionError("std.http: proxies must map a scheme to a proxy URL")
    proxy = proxies.get(url.scheme) or proxies.get("all")
    return str(proxy) if proxy else None
