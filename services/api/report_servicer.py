"""levante.v2.ReportsService: the execution report over gRPC (and /levante/v2 by transcoding).

The report is built once, as the dict Mistral's face answers
(`Reports.report`); this module only renders that dict as an
`ExecutionReport` message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format, struct_pb2

from levante.api.reports import Reports, Walk
from levante.api.watch import execution_id_of
from levante.v2 import report_pb2, report_pb2_grpc

_ERROR_CLASSES = {
    "syntax_or_expression_error": report_pb2.ERROR_CLASS_SYNTAX_OR_EXPRESSION_ERROR,
    "missing_input": report_pb2.ERROR_CLASS_MISSING_INPUT,
    "action_failed": report_pb2.ERROR_CLASS_ACTION_FAILED,
    "timeout": report_pb2.ERROR_CLASS_TIMEOUT,
    "cancelled": report_pb2.ERROR_CLASS_CANCELLED,
}


class ReportsServicer(report_pb2_grpc.ReportsServiceServicer):
    """levante.v2.ReportsService."""

    def __init__(self, reports: Reports) -> None:
        self._reports = reports

    async def GetExecutionReport(self, request: Any, context: Any) -> report_pb2.ExecutionReport:
        execution_id = execution_id_of(request.name)
        walk = Walk(
            errors_only=request.errors_only,
            max_depth=request.max_depth if request.HasField("max_depth") else -1,
        )
        report = await self._reports.report(
            execution_id,
            walk,
            statistics_only=request.statistics_only,
            include_trace=request.include_trace,
        )
        return report_to_proto(f"executions/{execution_id}", report)


def report_to_proto(name: str, report: dict[str, Any]) -> report_pb2.ExecutionReport:
    """The `ExecutionReport` of a report dict (Mistral's keys and the analysis)."""
    message = report_pb2.ExecutionReport(
        name=name,
        statistics=report_pb2.ReportStatistics(**report["statistics"]),
        path=[_step(s) for s in report.get("path", ())],
        trace=[_step(s) for s in report.get("trace", ())],
        error_class=_ERROR_CLASSES.get(report.get("error_class") or "", 0),
        summary=report_pb2.ReportSummary(**report.get("summary", {})),
    )
    if "root_workflow_execution" in report:
        message.root_workflow_execution.CopyFrom(_execution(report["root_workflow_execution"]))
    cause = report.get("root_cause")
    if cause is not None:
        message.root_cause.CopyFrom(
            report_pb2.RootCause(
                **{
                    k: cause[k] or ""
                    for k in (
                        "execution_id",
                        "workflow_name",
                        "task_execution_id",
                        "task_name",
                        "action_execution_id",
                        "action_name",
                        "state",
                        "error",
                        "state_info",
                    )
                }
            )
        )
        if cause["input"] is not None:
            json_format.ParseDict(cause["input"], message.root_cause.input)
        if isinstance(cause["workflow_input"], dict):
            message.root_cause.workflow_input.CopyFrom(_struct(cause["workflow_input"]))
    return message


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    json_format.ParseDict(value, struct)
    return struct


def _step(step: dict[str, Any]) -> report_pb2.ReportStep:
    return report_pb2.ReportStep(
        type=step["type"],
        id=step["id"],
        name=step["name"],
        state=step["state"],
        state_info=step.get("state_info") or "",
        depth=step.get("depth", 0),
    )


def _times(message: Any, entry: dict[str, Any]) -> None:
    for key, field in (("created_at", "create_time"), ("updated_at", "update_time")):
        if entry.get(key):
            when = datetime.strptime(entry[key], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            getattr(message, field).FromDatetime(when)


def _common(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": entry["id"],
        "name": entry["name"],
        "state": entry["state"],
        "state_info": entry["state_info"] or "",
    }


def _execution(entry: dict[str, Any]) -> report_pb2.ReportWorkflowExecution:
    message = report_pb2.ReportWorkflowExecution(**_common(entry))
    _times(message, entry)
    message.task_executions.extend(_task(t) for t in entry.get("task_executions", ()))
    return message


def _task(entry: dict[str, Any]) -> report_pb2.ReportTaskExecution:
    message = report_pb2.ReportTaskExecution(**_common(entry))
    _times(message, entry)
    for action in entry["action_executions"]:
        found = report_pb2.ReportActionExecution(**_common(action), accepted=action["accepted"])
        _times(found, action)
        message.action_executions.append(found)
    message.workflow_executions.extend(_execution(e) for e in entry["workflow_executions"])
    return message
