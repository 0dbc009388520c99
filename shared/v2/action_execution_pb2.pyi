import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from levante.v2 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ActionExecution(_message.Message):
    __slots__ = ("name", "id", "action_name", "workflow_name", "workflow_namespace", "task_execution_id", "task_name", "state", "state_info", "tags", "description", "project_id", "accepted", "input", "output", "params", "create_time", "update_time", "custom_context")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_NAME_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TASK_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_INFO_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: str
    action_name: str
    workflow_name: str
    workflow_namespace: str
    task_execution_id: str
    task_name: str
    state: _common_pb2.State
    state_info: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    description: str
    project_id: str
    accepted: bool
    input: _struct_pb2.Struct
    output: _struct_pb2.Struct
    params: _struct_pb2.Struct
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    custom_context: _struct_pb2.Struct
    def __init__(self, name: _Optional[str] = ..., id: _Optional[str] = ..., action_name: _Optional[str] = ..., workflow_name: _Optional[str] = ..., workflow_namespace: _Optional[str] = ..., task_execution_id: _Optional[str] = ..., task_name: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.State, str]] = ..., state_info: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ..., project_id: _Optional[str] = ..., accepted: _Optional[bool] = ..., input: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., output: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., custom_context: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class GetActionExecutionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListActionExecutionsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "filter", "order_by", "include_output", "all_projects")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    ALL_PROJECTS_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    filter: str
    order_by: str
    include_output: bool
    all_projects: bool
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ..., include_output: _Optional[bool] = ..., all_projects: _Optional[bool] = ...) -> None: ...

class ListActionExecutionsResponse(_message.Message):
    __slots__ = ("action_executions", "next_page_token")
    ACTION_EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    action_executions: _containers.RepeatedCompositeFieldContainer[ActionExecution]
    next_page_token: str
    def __init__(self, action_executions: _Optional[_Iterable[_Union[ActionExecution, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateActionExecutionRequest(_message.Message):
    __slots__ = ("action_execution", "save_result", "run_sync", "target", "timeout_seconds")
    ACTION_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    SAVE_RESULT_FIELD_NUMBER: _ClassVar[int]
    RUN_SYNC_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    action_execution: ActionExecution
    save_result: bool
    run_sync: bool
    target: str
    timeout_seconds: float
    def __init__(self, action_execution: _Optional[_Union[ActionExecution, _Mapping]] = ..., save_result: _Optional[bool] = ..., run_sync: _Optional[bool] = ..., target: _Optional[str] = ..., timeout_seconds: _Optional[float] = ...) -> None: ...

class UpdateActionExecutionRequest(_message.Message):
    __slots__ = ("action_execution", "update_mask")
    ACTION_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    action_execution: ActionExecution
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, action_execution: _Optional[_Union[ActionExecution, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...
