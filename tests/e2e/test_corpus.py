"""Workflows whose outcomes were observed on real Mistral, run through the real system."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import pytest
import yaml

from tests.support.net import eventually

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CASES = yaml.safe_load((Path(__file__).parent / "corpus" / "mistral_observed.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_observed_outcome(mistral, case: dict) -> None:
    name = f"c{uuid.uuid4().hex[:10]}"
    mistral.workflows.create(case["definition"].replace("{name}", name))
    started = time.monotonic()
    execution = mistral.executions.create(
        case["run"].replace("{name}", name),
        workflow_input=case.get("input") or {},
        **(case.get("params") or {}),
    )

    final_states = ("SUCCESS", "ERROR", "CANCELLED", "PAUSED")

    def finished():
        current = mistral.executions.get(execution.id)
        return current if current.state in final_states else None

    done = eventually(finished, timeout=60, what=f"{case['id']} to finish")
    elapsed = time.monotonic() - started
    assert done.state == case["state"], done.state_info
    assert elapsed >= case.get("min_seconds", 0), elapsed
    assert elapsed <= case.get("max_seconds", 60), elapsed
    if "output" in case:
        assert json.loads(done.output) == case["output"]
    if "output_normalized" in case:
        # Ids differ from run to run: compared as <id>, the workflow prefix as {name}.
        shown = _UUID.sub("<id>", done.output.replace(name, "{name}"))
        assert json.loads(shown) == case["output_normalized"]
    if "state_info_contains" in case:
        assert case["state_info_contains"] in done.state_info
    tasks = {t.name: t for t in mistral.tasks.list(workflow_execution_id=execution.id)}
    for task_name, state in case.get("tasks", {}).items():
        assert tasks[task_name].state == state, task_name
    for task_name, info in case.get("task_info", {}).items():
        assert tasks[task_name].state_info == info
    for task_name, prefix in case.get("task_info_starts", {}).items():
        expected = prefix.replace("{name}", name)
        assert tasks[task_name].state_info.startswith(expected), tasks[task_name].state_info
    for task_name, result in case.get("task_results", {}).items():
        assert json.loads(mistral.tasks.get(tasks[task_name].id).result) == result
    for task_name, count in case.get("action_counts", {}).items():
        assert len(mistral.action_executions.list(tasks[task_name].id)) == count
    for task_name, context in case.get("runtime_context", {}).items():
        shown = json.loads(mistral.tasks.get(tasks[task_name].id).runtime_context)
        assert {k: v for k, v in shown.items() if k in context} == context
    for task_name in case.get("absent", []):
        assert task_name not in tasks
