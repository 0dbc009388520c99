import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from levante.internal.v1 import engine_pb2 as _engine_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunAction(_message.Message):
    __slots__ = ("command_id", "action_execution_id", "task_execution_id", "execution_id", "root_execution_id", "action_name", "input_json", "target", "safe_rerun", "request_time", "workflow_name", "workflow_namespace", "task_name", "project_id", "custom_context_json", "traceparent")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    ROOT_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_NAME_FIELD_NUMBER: _ClassVar[int]
    INPUT_JSON_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    SAFE_RERUN_FIELD_NUMBER: _ClassVar[int]
    REQUEST_TIME_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_CONTEXT_JSON_FIELD_NUMBER: _ClassVar[int]
    TRACEPARENT_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    action_execution_id: str
    task_execution_id: str
    execution_id: str
    root_execution_id: str
    action_name: str
    input_json: bytes
    target: str
    safe_rerun: bool
    request_time: _timestamp_pb2.Timestamp
    workflow_name: str
    workflow_namespace: str
    task_name: str
    project_id: str
    custom_context_json: bytes
    traceparent: str
    def __init__(self, command_id: _Optional[str] = ..., action_execution_id: _Optional[str] = ..., task_execution_id: _Optional[str] = ..., execution_id: _Optional[str] = ..., root_execution_id: _Optional[str] = ..., action_name: _Optional[str] = ..., input_json: _Optional[bytes] = ..., target: _Optional[str] = ..., safe_rerun: _Optional[bool] = ..., request_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., workflow_name: _Optional[str] = ..., workflow_namespace: _Optional[str] = ..., task_name: _Optional[str] = ..., project_id: _Optional[str] = ..., custom_context_json: _Optional[bytes] = ..., traceparent: _Optional[str] = ...) -> None: ...

class ActionPending(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ActionFailure(_message.Message):
    __slots__ = ("message", "data_json")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    message: str
    data_json: bytes
    def __init__(self, message: _Optional[str] = ..., data_json: _Optional[bytes] = ...) -> None: ...

class ActionResult(_message.Message):
    __slots__ = ("action_execution_id", "task_execution_id", "result_json", "failure", "pending", "executor")
    ACTION_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    EXECUTOR_FIELD_NUMBER: _ClassVar[int]
    action_execution_id: str
    task_execution_id: str
    result_json: bytes
    failure: ActionFailure
    pending: ActionPending
    executor: str
    def __init__(self, action_execution_id: _Optional[str] = ..., task_execution_id: _Optional[str] = ..., result_json: _Optional[bytes] = ..., failure: _Optional[_Union[ActionFailure, _Mapping]] = ..., pending: _Optional[_Union[ActionPending, _Mapping]] = ..., executor: _Optional[str] = ...) -> None: ...

class EngineEvent(_message.Message):
    __slots__ = ("event_id", "event_time", "execution_id", "root_execution_id", "action_result", "timer_fired", "start_execution")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    ROOT_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_RESULT_FIELD_NUMBER: _ClassVar[int]
    TIMER_FIRED_FIELD_NUMBER: _ClassVar[int]
    START_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event_time: _timestamp_pb2.Timestamp
    execution_id: str
    root_execution_id: str
    action_result: ActionResult
    timer_fired: TimerFired
    start_execution: _engine_pb2.StartExecutionRequest
    def __init__(self, event_id: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., execution_id: _Optional[str] = ..., root_execution_id: _Optional[str] = ..., action_result: _Optional[_Union[ActionResult, _Mapping]] = ..., timer_fired: _Optional[_Union[TimerFired, _Mapping]] = ..., start_execution: _Optional[_Union[_engine_pb2.StartExecutionRequest, _Mapping]] = ...) -> None: ...

class TimerFired(_message.Message):
    __slots__ = ("timer_id", "kind", "task_execution_id", "token")
    TIMER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TASK_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    timer_id: str
    kind: str
    task_execution_id: str
    token: int
    def __init__(self, timer_id: _Optional[str] = ..., kind: _Optional[str] = ..., task_execution_id: _Optional[str] = ..., token: _Optional[int] = ...) -> None: ...
