from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATE_UNSPECIFIED: _ClassVar[State]
    STATE_IDLE: _ClassVar[State]
    STATE_WAITING: _ClassVar[State]
    STATE_RUNNING: _ClassVar[State]
    STATE_RUNNING_DELAYED: _ClassVar[State]
    STATE_PAUSED: _ClassVar[State]
    STATE_SUCCESS: _ClassVar[State]
    STATE_CANCELLED: _ClassVar[State]
    STATE_ERROR: _ClassVar[State]
    STATE_SKIPPED: _ClassVar[State]

class Scope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCOPE_UNSPECIFIED: _ClassVar[Scope]
    SCOPE_PRIVATE: _ClassVar[Scope]
    SCOPE_PUBLIC: _ClassVar[Scope]
STATE_UNSPECIFIED: State
STATE_IDLE: State
STATE_WAITING: State
STATE_RUNNING: State
STATE_RUNNING_DELAYED: State
STATE_PAUSED: State
STATE_SUCCESS: State
STATE_CANCELLED: State
STATE_ERROR: State
STATE_SKIPPED: State
SCOPE_UNSPECIFIED: Scope
SCOPE_PRIVATE: Scope
SCOPE_PUBLIC: Scope
