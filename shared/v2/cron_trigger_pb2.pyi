import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from levante.v2 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CronTrigger(_message.Message):
    __slots__ = ("name", "id", "trigger_name", "pattern", "workflow_name", "workflow_id", "workflow_namespace", "workflow_input", "workflow_params", "first_execution_time", "next_execution_time", "remaining_executions", "timezone", "scope", "project_id", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_NAME_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_INPUT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_PARAMS_FIELD_NUMBER: _ClassVar[int]
    FIRST_EXECUTION_TIME_FIELD_NUMBER: _ClassVar[int]
    NEXT_EXECUTION_TIME_FIELD_NUMBER: _ClassVar[int]
    REMAINING_EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: str
    trigger_name: str
    pattern: str
    workflow_name: str
    workflow_id: str
    workflow_namespace: str
    workflow_input: _struct_pb2.Struct
    workflow_params: _struct_pb2.Struct
    first_execution_time: _timestamp_pb2.Timestamp
    next_execution_time: _timestamp_pb2.Timestamp
    remaining_executions: int
    timezone: str
    scope: _common_pb2.Scope
    project_id: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., id: _Optional[str] = ..., trigger_name: _Optional[str] = ..., pattern: _Optional[str] = ..., workflow_name: _Optional[str] = ..., workflow_id: _Optional[str] = ..., workflow_namespace: _Optional[str] = ..., workflow_input: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., workflow_params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., first_execution_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_execution_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., remaining_executions: _Optional[int] = ..., timezone: _Optional[str] = ..., scope: _Optional[_Union[_common_pb2.Scope, str]] = ..., project_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateCronTriggerRequest(_message.Message):
    __slots__ = ("cron_trigger",)
    CRON_TRIGGER_FIELD_NUMBER: _ClassVar[int]
    cron_trigger: CronTrigger
    def __init__(self, cron_trigger: _Optional[_Union[CronTrigger, _Mapping]] = ...) -> None: ...

class GetCronTriggerRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListCronTriggersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "filter", "order_by", "all_projects")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    ALL_PROJECTS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    filter: str
    order_by: str
    all_projects: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ..., all_projects: _Optional[bool] = ...) -> None: ...

class ListCronTriggersResponse(_message.Message):
    __slots__ = ("cron_triggers", "next_page_token")
    CRON_TRIGGERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    cron_triggers: _containers.RepeatedCompositeFieldContainer[CronTrigger]
    next_page_token: str
    def __init__(self, cron_triggers: _Optional[_Iterable[_Union[CronTrigger, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteCronTriggerRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...
