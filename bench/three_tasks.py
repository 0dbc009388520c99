"""Wall time of a 3-task workflow, from POST /v2/executions to SUCCESS.

Talks plain HTTP to any Mistral-v2-compatible server, so the same run
measures Levante and real Mistral side by side:

    .venv/bin/python bench/three_tasks.py --url http://127.0.0.1:8989/v2 \
        [--url http://127.0.0.1:8990/v2] [--runs 30] [--poll-ms 5]

Prints median / p90 / min per server and, with two servers, the ratio of
medians (second / first). Polls GET /v2/executions/<id> every --poll-ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import urllib.request
import uuid

WORKFLOW = """\
version: '2.0'
{name}:
  input:
    - who: bench
  output:
    said: <% $.said %>
  tasks:
    one:
      action: std.echo output="hi <% $.who %>"
      publish:
        said: <% task().result %>
      on-success: two
    two:
      action: std.noop
      on-success: three
    three:
      action: std.echo output="done"
"""


def _call(method: str, url: str, body: bytes | None = None, ctype: str = "application/json"):
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": ctype})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def measure(url: str, *, runs: int, poll: float) -> list[float]:
    """Seconds from create to SUCCESS, per run (after one warm-up run)."""
    name = f"bench3_{uuid.uuid4().hex[:8]}"
    _call("POST", f"{url}/workflows", WORKFLOW.format(name=name).encode(), "text/plain")
    times = []
    for index in range(runs + 1):
        start = time.perf_counter()
        execution = _call("POST", f"{url}/executions", json.dumps({"workflow_name": name}).encode())
        while True:
            state = _call("GET", f"{url}/executions/{execution['id']}")["state"]
            if state in ("SUCCESS", "ERROR", "CANCELLED"):
                break
            time.sleep(poll)
        elapsed = time.perf_counter() - start
        if state != "SUCCESS":
            raise SystemExit(f"{url}: execution ended in {state}")
        if index:  # the first run warms caches up
            times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", action="append", required=True)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--poll-ms", type=float, default=5.0)
    options = parser.parse_args()
    medians = []
    for url in options.url:
        times = sorted(measure(url, runs=options.runs, poll=options.poll_ms / 1000))
        median = statistics.median(times)
        medians.append(median)
        p90 = times[int(len(times) * 0.9) - 1]
        print(
            f"{url}: 3-task workflow create->SUCCESS median {median * 1000:.1f} ms, "
            f"p90 {p90 * 1000:.1f} ms, min {times[0] * 1000:.1f} ms ({len(times)} runs)"
        )
    if len(medians) == 2:
        print(f"ratio (second / first median): {medians[1] / medians[0]:.2f}x")


if __name__ == "__main__":
    main()
