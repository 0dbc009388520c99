import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventEntity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_ENTITY_UNSPECIFIED: _ClassVar[EventEntity]
    EVENT_ENTITY_WORKFLOW_EXECUTION: _ClassVar[EventEntity]
    EVENT_ENTITY_TASK_EXECUTION: _ClassVar[EventEntity]
    EVENT_ENTITY_ACTION_EXECUTION: _ClassVar[EventEntity]
EVENT_ENTITY_UNSPECIFIED: EventEntity
EVENT_ENTITY_WORKFLOW_EXECUTION: EventEntity
EVENT_ENTITY_TASK_EXECUTION: EventEntity
EVENT_ENTITY_ACTION_EXECUTION: EventEntity

class ExecutionEvent(_message.Message):
    __slots__ = ("id", "root_execution_id", "execution_id", "parent_execution_id", "entity", "entity_id", "name", "task_execution_id", "old_state", "new_state", "state_info", "timestamp", "summary_json", "item_index", "sequence")
    ID_FIELD_NUMBER: _ClassVar[int]
    ROOT_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TASK_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    OLD_STATE_FIELD_NUMBER: _ClassVar[int]
    NEW_STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_INFO_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_JSON_FIELD_NUMBER: _ClassVar[int]
    ITEM_INDEX_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    root_execution_id: str
    execution_id: str
    parent_execution_id: str
    entity: EventEntity
    entity_id: str
    name: str
    task_execution_id: str
    old_state: str
    new_state: str
    state_info: str
    timestamp: _timestamp_pb2.Timestamp
    summary_json: str
    item_index: int
    sequence: int
    def __init__(self, id: _Optional[str] = ..., root_execution_id: _Optional[str] = ..., execution_id: _Optional[str] = ..., parent_execution_id: _Optional[str] = ..., entity: _Optional[_Union[EventEntity, str]] = ..., entity_id: _Optional[str] = ..., name: _Optional[str] = ..., task_execution_id: _Optional[str] = ..., old_state: _Optional[str] = ..., new_state: _Optional[str] = ..., state_info: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., summary_json: _Optional[str] = ..., item_index: _Optional[int] = ..., sequence: _Optional[int] = ...) -> None: ...

class WatchExecutionRequest(_message.Message):
    __slots__ = ("name", "replay")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REPLAY_FIELD_NUMBER: _ClassVar[int]
    name: str
    replay: bool
    def __init__(self, name: _Optional[str] = ..., replay: _Optional[bool] = ...) -> None: ...
