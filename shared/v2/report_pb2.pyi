import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorClass(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_CLASS_UNSPECIFIED: _ClassVar[ErrorClass]
    ERROR_CLASS_SYNTAX_OR_EXPRESSION_ERROR: _ClassVar[ErrorClass]
    ERROR_CLASS_MISSING_INPUT: _ClassVar[ErrorClass]
    ERROR_CLASS_ACTION_FAILED: _ClassVar[ErrorClass]
    ERROR_CLASS_TIMEOUT: _ClassVar[ErrorClass]
    ERROR_CLASS_CANCELLED: _ClassVar[ErrorClass]
ERROR_CLASS_UNSPECIFIED: ErrorClass
ERROR_CLASS_SYNTAX_OR_EXPRESSION_ERROR: ErrorClass
ERROR_CLASS_MISSING_INPUT: ErrorClass
ERROR_CLASS_ACTION_FAILED: ErrorClass
ERROR_CLASS_TIMEOUT: ErrorClass
ERROR_CLASS_CANCELLED: ErrorClass

class GetExecutionReportRequest(_message.Message):
    __slots__ = ("name", "include_trace", "errors_only", "max_depth", "statistics_only")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_TRACE_FIELD_NUMBER: _ClassVar[int]
    ERRORS_ONLY_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_ONLY_FIELD_NUMBER: _ClassVar[int]
    name: str
    include_trace: bool
    errors_only: bool
    max_depth: int
    statistics_only: bool
    def __init__(self, name: _Optional[str] = ..., include_trace: _Optional[bool] = ..., errors_only: _Optional[bool] = ..., max_depth: _Optional[int] = ..., statistics_only: _Optional[bool] = ...) -> None: ...

class ExecutionReport(_message.Message):
    __slots__ = ("name", "statistics", "root_workflow_execution", "root_cause", "path", "error_class", "summary", "trace")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    ROOT_WORKFLOW_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    ROOT_CAUSE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    ERROR_CLASS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    TRACE_FIELD_NUMBER: _ClassVar[int]
    name: str
    statistics: ReportStatistics
    root_workflow_execution: ReportWorkflowExecution
    root_cause: RootCause
    path: _containers.RepeatedCompositeFieldContainer[ReportStep]
    error_class: ErrorClass
    summary: ReportSummary
    trace: _containers.RepeatedCompositeFieldContainer[ReportStep]
    def __init__(self, name: _Optional[str] = ..., statistics: _Optional[_Union[ReportStatistics, _Mapping]] = ..., root_workflow_execution: _Optional[_Union[ReportWorkflowExecution, _Mapping]] = ..., root_cause: _Optional[_Union[RootCause, _Mapping]] = ..., path: _Optional[_Iterable[_Union[ReportStep, _Mapping]]] = ..., error_class: _Optional[_Union[ErrorClass, str]] = ..., summary: _Optional[_Union[ReportSummary, _Mapping]] = ..., trace: _Optional[_Iterable[_Union[ReportStep, _Mapping]]] = ...) -> None: ...

class ReportStatistics(_message.Message):
    __slots__ = ("total_tasks_count", "running_tasks_count", "success_tasks_count", "error_tasks_count", "idle_tasks_count", "paused_tasks_count", "estimated_time")
    TOTAL_TASKS_COUNT_FIELD_NUMBER: _ClassVar[int]
    RUNNING_TASKS_COUNT_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_TASKS_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_TASKS_COUNT_FIELD_NUMBER: _ClassVar[int]
    IDLE_TASKS_COUNT_FIELD_NUMBER: _ClassVar[int]
    PAUSED_TASKS_COUNT_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_TIME_FIELD_NUMBER: _ClassVar[int]
    total_tasks_count: int
    running_tasks_count: int
    success_tasks_count: int
    error_tasks_count: int
    idle_tasks_count: int
    paused_tasks_count: int
    estimated_time: int
    def __init__(self, total_tasks_count: _Optional[int] = ..., running_tasks_count: _Optional[int] = ..., success_tasks_count: _Optional[int] = ..., error_tasks_count: _Optional[int] = ..., idle_tasks_count: _Optional[int] = ..., paused_tasks_count: _Optional[int] = ..., estimated_time: _Optional[int] = ...) -> None: ...

class ReportWorkflowExecution(_message.Message):
    __slots__ = ("id", "name", "state", "state_info", "create_time", "update_time", "task_executions")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_INFO_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    TASK_EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    state: str
    state_info: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    task_executions: _containers.RepeatedCompositeFieldContainer[ReportTaskExecution]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[str] = ..., state_info: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., task_executions: _Optional[_Iterable[_Union[ReportTaskExecution, _Mapping]]] = ...) -> None: ...

class ReportTaskExecution(_message.Message):
    __slots__ = ("id", "name", "state", "state_info", "create_time", "update_time", "action_executions", "workflow_executions")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_INFO_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTION_EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    state: str
    state_info: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    action_executions: _containers.RepeatedCompositeFieldContainer[ReportActionExecution]
    workflow_executions: _containers.RepeatedCompositeFieldContainer[ReportWorkflowExecution]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[str] = ..., state_info: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., action_executions: _Optional[_Iterable[_Union[ReportActionExecution, _Mapping]]] = ..., workflow_executions: _Optional[_Iterable[_Union[ReportWorkflowExecution, _Mapping]]] = ...) -> None: ...

class ReportActionExecution(_message.Message):
    __slots__ = ("id", "name", "state", "state_info", "create_time", "update_time", "accepted")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_INFO_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    state: str
    state_info: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    accepted: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[str] = ..., state_info: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., accepted: _Optional[bool] = ...) -> None: ...

class RootCause(_message.Message):
    __slots__ = ("execution_id", "workflow_name", "task_execution_id", "task_name", "action_execution_id", "action_name", "state", "error", "state_info", "input", "workflow_input")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    TASK_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    ACTION_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STATE_INFO_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_INPUT_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    workflow_name: str
    task_execution_id: str
    task_name: str
    action_execution_id: str
    action_name: str
    state: str
    error: str
    state_info: str
    input: _struct_pb2.Value
    workflow_input: _struct_pb2.Struct
    def __init__(self, execution_id: _Optional[str] = ..., workflow_name: _Optional[str] = ..., task_execution_id: _Optional[str] = ..., task_name: _Optional[str] = ..., action_execution_id: _Optional[str] = ..., action_name: _Optional[str] = ..., state: _Optional[str] = ..., error: _Optional[str] = ..., state_info: _Optional[str] = ..., input: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., workflow_input: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ReportStep(_message.Message):
    __slots__ = ("type", "id", "name", "state", "state_info", "depth")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_INFO_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    type: str
    id: str
    name: str
    state: str
    state_info: str
    depth: int
    def __init__(self, type: _Optional[str] = ..., id: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[str] = ..., state_info: _Optional[str] = ..., depth: _Optional[int] = ...) -> None: ...

class ReportSummary(_message.Message):
    __slots__ = ("workflows", "tasks", "actions")
    class WorkflowsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class TasksEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ActionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    WORKFLOWS_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    workflows: _containers.ScalarMap[str, int]
    tasks: _containers.ScalarMap[str, int]
    actions: _containers.ScalarMap[str, int]
    def __init__(self, workflows: _Optional[_Mapping[str, int]] = ..., tasks: _Optional[_Mapping[str, int]] = ..., actions: _Optional[_Mapping[str, int]] = ...) -> None: ...
