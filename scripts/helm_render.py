"""Render the Helm chart with Helm itself and validate every manifest against Kubernetes' schemas.

    .venv-helm/bin/python scripts/helm_render.py helm/levante -f VALUES.yaml [-f ...]
        [--validate 1.27,1.37] [--json] [--out FILE]

Rendering is Helm's own engine (Helm v4, through PyPI's helm-sdkpy, which needs
Python 3.12+). helm-sdkpy offers no `helm template`: its install always talks to
a cluster. So this script runs `install` against a small stand-in for the
Kubernetes API on 127.0.0.1 that answers discovery and accepts what Helm
creates (hooks report success), with Helm's in-memory release storage. The
release Helm returns carries the rendered manifest and hooks, exactly as a
real `helm install` would apply them.

Validation uses PyPI's kubernetes-validate in strict mode (unknown fields are
errors) for each Kubernetes version given.

Prints the documents as YAML (or, with --json, a JSON report with the
documents and any validation errors); exits 1 when rendering or validation
fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import yaml

# The API groups and resources the stand-in cluster serves: what the chart
# renders. A kind missing here makes Helm fail with "no matches for kind".
RESOURCES: dict[str, list[tuple[str, str, bool]]] = {
    "v1": [
        ("configmaps", "ConfigMap", True),
        ("secrets", "Secret", True),
        ("services", "Service", True),
        ("serviceaccounts", "ServiceAccount", True),
        ("persistentvolumeclaims", "PersistentVolumeClaim", True),
        ("pods", "Pod", True),
        ("namespaces", "Namespace", False),
    ],
    "apps/v1": [("deployments", "Deployment", True), ("statefulsets", "StatefulSet", True)],
    "batch/v1": [("jobs", "Job", True)],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True)],
    "autoscaling/v2": [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)],
}
PLURALS = {plural for entries in RESOURCES.values() for plural, _, _ in entries}


class _StandInApi(BaseHTTPRequestHandler):
    """Discovery, create, get, list, delete; every created Job is complete at once."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes: without this every answer waits
    # for the client's delayed ACK (40 ms).
    disable_nagle_algorithm = True
    objects: dict[str, dict[str, Any]] = {}
    kube_version = "1.31.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    def _send(self, code: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self) -> None:
        status = {"kind": "Status", "apiVersion": "v1", "status": "Failure"}
        self._send(404, {**status, "reason": "NotFound", "code": 404})

    def _read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlparse(self.path)
        path, query = url.path, parse_qs(url.query)
        if path == "/version":
            major, minor, _ = self.kube_version.split(".")
            return self._send(
                200, {"major": major, "minor": minor, "gitVersion": f"v{self.kube_version}"}
            )
        if path == "/api":
            return self._send(200, {"kind": "APIVersions", "versions": ["v1"]})
        if path == "/apis":
            return self._send(200, _group_list())
        if path == "/openapi/v2":
            # An empty OpenAPI document: Helm's client-side checks find no
            # schema to apply; the schemas are checked by kubernetes-validate.
            return self._send(200, b"", "application/octet-stream")
        group_version = path.removeprefix("/apis/").removeprefix("/api/")
        if group_version in RESOURCES:
            return self._send(200, _resource_list(group_version))
        if query.get("watch", [""])[0] in ("true", "1"):
            if "sendInitialEvents" in query:
                # Streaming lists are not offered: client-go lists instead.
                return self._send(200, b"")
            return self._hold_watch()
        if path in self.objects:
            return self._send(200, self.objects[path])
        if path.rsplit("/", 1)[-1] in PLURALS:
            items = [o for key, o in self.objects.items() if key.rsplit("/", 1)[0] == path]
            listing = {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}}
            return self._send(200, {**listing, "items": items})
        return self._not_found()

    def _hold_watch(self) -> None:
        # A watch with no events that stays open until the stand-in stops
        # (a watch that ends at once makes client-go warn and retry).
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        self.server.stopping.wait()  # type: ignore[attr-defined]
        self.close_connection = True

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self._read_body() or b"{}")
        metadata = body.setdefault("metadata", {})
        metadata.update(resourceVersion="1", uid=f"uid-{len(self.objects)}")
        if body.get("kind") == "Job":
            body["status"] = {
                "succeeded": 1,
                "conditions": [{"type": "Complete", "status": "True"}],
            }
        self.objects[f"{urlparse(self.path).path}/{metadata['name']}"] = body
        self._send(201, body)

    def do_DELETE(self) -> None:  # noqa: N802
        self._read_body()
        path = urlparse(self.path).path
        if self.objects.pop(path, None) is None:
            return self._not_found()
        self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})

    def do_PATCH(self) -> None:  # noqa: N802
        self._read_body()
        self._not_found()

    do_PUT = do_PATCH


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.stopping = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Helm hangs up on watches it no longer needs: not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _group_list() -> dict[str, Any]:
    groups = []
    for group_version in RESOURCES:
        if "/" in group_version:
            group, version = group_version.split("/")
            entry = {"groupVersion": group_version, "version": version}
            groups.append({"name": group, "versions": [entry], "preferredVersion": entry})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _resource_list(group_version: str) -> dict[str, Any]:
    verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
    resources = [
        {"name": plural, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind}
        | {"verbs": verbs}
        for plural, kind, namespaced in RESOURCES[group_version]
    ]
    return {"kind": "APIResourceList", "groupVersion": group_version, "resources": resources}


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merges values files the way `helm -f a -f b` does: maps deeply, the rest replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged


def render(
    chart: Path,
    values: dict[str, Any],
    *,
    release: str,
    namespace: str,
    kube_version: str,
) -> list[dict[str, Any]]:
    """Installs the chart into the stand-in cluster; returns hooks then manifests."""
    import helm_sdkpy

    _StandInApi.objects = {}
    _StandInApi.kube_version = kube_version
    server = _QuietServer(("127.0.0.1", 0), _StandInApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        kubeconfig = yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
                "users": [{"name": "u", "user": {}}],
            }
        )
        config = helm_sdkpy.Configuration(namespace=namespace, kubeconfig=kubeconfig)
        result = asyncio.run(
            helm_sdkpy.Install(config).run(
                release, str(chart), values=values or None, wait=False, timeout=60
            )
        )
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
    texts = [hook["manifest"] for hook in result.get("hooks") or []]
    texts.append(result.get("manifest") or "")
    return [doc for text in texts for doc in yaml.safe_load_all(text) if doc]


def validate(documents: list[dict[str, Any]], versions: list[str]) -> list[str]:
    """Validates every document against each Kubernetes version's schemas (strict)."""
    import kubernetes_validate

    errors = []
    for version in versions:
        for doc in documents:
            where = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')} (k8s {version})"
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                path = "/".join(str(p) for p in error.path)
                errors.append(f"{where}: {path}: {error.message}")
            except kubernetes_validate.SchemaNotFoundError as error:
                errors.append(f"{where}: {error.message}")
    return errors


def lint(chart: Path) -> list[str]:
    """`helm lint` of the chart (its default values); warnings and errors count."""
    import helm_sdkpy

    config = helm_sdkpy.Configuration(namespace="default")
    result = asyncio.run(helm_sdkpy.Lint(config).run(str(chart)))
    # Helm's severities: 1 info, 2 warning, 3 error.
    return [
        f"helm lint: {message.get('Path')}: severity {message.get('Severity')} {message.get('Err')}"
        for message in result.get("Messages") or []
        if (message.get("Severity") or 0) >= 2
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chart", type=Path)
    parser.add_argument("-f", "--values", type=Path, action="append", default=[])
    parser.add_argument("--release", default="levante")
    parser.add_argument("--namespace", default="levante")
    parser.add_argument("--kube-version", default="1.31.0", help="version the cluster reports")
    parser.add_argument("--validate", default="", help="Kubernetes versions, e.g. 1.27,1.37")
    parser.add_argument("--lint", action="store_true", help="also run `helm lint` on the chart")
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    parser.add_argument("--out", type=Path, help="write the output here instead of stdout")
    options = parser.parse_args()

    if os.environ.get("HELM_DRIVER") != "memory":
        # Helm reads its storage driver from the environment the process
        # started with; keep releases in memory, not in the stand-in cluster.
        environment = {**os.environ, "HELM_DRIVER": "memory"}
        environment.setdefault("HELM_CACHE_HOME", tempfile.mkdtemp(prefix="helm-cache-"))
        environment.setdefault("HELM_CONFIG_HOME", tempfile.mkdtemp(prefix="helm-config-"))
        environment.setdefault("HELM_DATA_HOME", tempfile.mkdtemp(prefix="helm-data-"))
        os.execve(sys.executable, [sys.executable, *sys.argv], environment)

    values: dict[str, Any] = {}
    for path in options.values:
        values = merge_values(values, yaml.safe_load(path.read_text()) or {})
    try:
        documents = render(
            options.chart.resolve(),
            values,
            release=options.release,
            namespace=options.namespace,
            kube_version=options.kube_version,
        )
    except Exception as error:  # Helm's errors: template failures, `fail` messages
        print(f"helm could not render {options.chart}: {error}", file=sys.stderr)
        return 1
    versions = [v.strip() for v in options.validate.split(",") if v.strip()]
    errors = validate(documents, versions) if versions else []
    if options.lint:
        errors += lint(options.chart.resolve())
    if options.json:
        output = json.dumps({"documents": documents, "versions": versions, "errors": errors})
    else:
        output = yaml.safe_dump_all(documents, sort_keys=False)
    if options.out:
        options.out.write_text(output)
    else:
        sys.stdout.write(output)
    for error in errors:
        print(f"invalid: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
