import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FindingKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINDING_KIND_UNSPECIFIED: _ClassVar[FindingKind]
    FINDING_KIND_EXECUTION_WITHOUT_PROGRESS: _ClassVar[FindingKind]
    FINDING_KIND_ACTION_LOST: _ClassVar[FindingKind]
    FINDING_KIND_ACTION_WAITING_FOR_EXECUTOR: _ClassVar[FindingKind]
    FINDING_KIND_ACTION_RUNNING_LONG: _ClassVar[FindingKind]
    FINDING_KIND_ACTION_WAITING_FOR_RESULT: _ClassVar[FindingKind]
    FINDING_KIND_ACTION_NOT_PUBLISHED: _ClassVar[FindingKind]
    FINDING_KIND_ACTION_RECOVERED: _ClassVar[FindingKind]
    FINDING_KIND_OUTBOX_BACKLOG: _ClassVar[FindingKind]
    FINDING_KIND_TIMERS_OVERDUE: _ClassVar[FindingKind]
    FINDING_KIND_ENGINE_EVENTS_WAITING: _ClassVar[FindingKind]

class RecoveryState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECOVERY_STATE_UNSPECIFIED: _ClassVar[RecoveryState]
    RECOVERY_STATE_NONE: _ClassVar[RecoveryState]
    RECOVERY_STATE_AUTOMATIC: _ClassVar[RecoveryState]
    RECOVERY_STATE_APPLIED: _ClassVar[RecoveryState]
    RECOVERY_STATE_MANUAL: _ClassVar[RecoveryState]
FINDING_KIND_UNSPECIFIED: FindingKind
FINDING_KIND_EXECUTION_WITHOUT_PROGRESS: FindingKind
FINDING_KIND_ACTION_LOST: FindingKind
FINDING_KIND_ACTION_WAITING_FOR_EXECUTOR: FindingKind
FINDING_KIND_ACTION_RUNNING_LONG: FindingKind
FINDING_KIND_ACTION_WAITING_FOR_RESULT: FindingKind
FINDING_KIND_ACTION_NOT_PUBLISHED: FindingKind
FINDING_KIND_ACTION_RECOVERED: FindingKind
FINDING_KIND_OUTBOX_BACKLOG: FindingKind
FINDING_KIND_TIMERS_OVERDUE: FindingKind
FINDING_KIND_ENGINE_EVENTS_WAITING: FindingKind
RECOVERY_STATE_UNSPECIFIED: RecoveryState
RECOVERY_STATE_NONE: RecoveryState
RECOVERY_STATE_AUTOMATIC: RecoveryState
RECOVERY_STATE_APPLIED: RecoveryState
RECOVERY_STATE_MANUAL: RecoveryState

class Finding(_message.Message):
    __slots__ = ("kind", "resource", "execution_id", "name", "reason", "recovery", "recovery_state", "since")
    KIND_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_STATE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    kind: FindingKind
    resource: str
    execution_id: str
    name: str
    reason: str
    recovery: str
    recovery_state: RecoveryState
    since: _timestamp_pb2.Timestamp
    def __init__(self, kind: _Optional[_Union[FindingKind, str]] = ..., resource: _Optional[str] = ..., execution_id: _Optional[str] = ..., name: _Optional[str] = ..., reason: _Optional[str] = ..., recovery: _Optional[str] = ..., recovery_state: _Optional[_Union[RecoveryState, str]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DiagnoseRequest(_message.Message):
    __slots__ = ("stuck_after_seconds", "recovered_within_seconds", "page_size")
    STUCK_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RECOVERED_WITHIN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    stuck_after_seconds: int
    recovered_within_seconds: int
    page_size: int
    def __init__(self, stuck_after_seconds: _Optional[int] = ..., recovered_within_seconds: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class DiagnoseResponse(_message.Message):
    __slots__ = ("findings", "diagnose_time", "running_executions", "truncated")
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    DIAGNOSE_TIME_FIELD_NUMBER: _ClassVar[int]
    RUNNING_EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    diagnose_time: _timestamp_pb2.Timestamp
    running_executions: int
    truncated: bool
    def __init__(self, findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., diagnose_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., running_executions: _Optional[int] = ..., truncated: _Optional[bool] = ...) -> None: ...
