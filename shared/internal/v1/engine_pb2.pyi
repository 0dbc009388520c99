from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class RerunTaskRequest(_message.Message):
    __slots__ = ("task_execution_id", "reset", "env_json")
    TASK_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    RESET_FIELD_NUMBER: _ClassVar[int]
    ENV_JSON_FIELD_NUMBER: _ClassVar[int]
    task_execution_id: str
    reset: bool
    env_json: str
    def __init__(self, task_execution_id: _Optional[str] = ..., reset: _Optional[bool] = ..., env_json: _Optional[str] = ...) -> None: ...

class RerunTaskResponse(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: str
    def __init__(self, state: _Optional[str] = ...) -> None: ...

class StartExecutionRequest(_message.Message):
    __slots__ = ("execution_id", "workflow_id", "workflow_name", "workflow_namespace", "input_json", "params_json", "description", "project_id", "custom_context_json")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    INPUT_JSON_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_CONTEXT_JSON_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    workflow_id: str
    workflow_name: str
    workflow_namespace: str
    input_json: str
    params_json: str
    description: str
    project_id: str
    custom_context_json: str
    def __init__(self, execution_id: _Optional[str] = ..., workflow_id: _Optional[str] = ..., workflow_name: _Optional[str] = ..., workflow_namespace: _Optional[str] = ..., input_json: _Optional[str] = ..., params_json: _Optional[str] = ..., description: _Optional[str] = ..., project_id: _Optional[str] = ..., custom_context_json: _Optional[str] = ...) -> None: ...

class StartExecutionResponse(_message.Message):
    __slots__ = ("execution_id",)
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    def __init__(self, execution_id: _Optional[str] = ...) -> None: ...

class StartActionRequest(_message.Message):
    __slots__ = ("action_name", "input_json", "target", "description", "project_id", "namespace", "params_json", "custom_context_json")
    ACTION_NAME_FIELD_NUMBER: _ClassVar[int]
    INPUT_JSON_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_CONTEXT_JSON_FIELD_NUMBER: _ClassVar[int]
    action_name: str
    input_json: str
    target: str
    description: str
    project_id: str
    namespace: str
    params_json: str
    custom_context_json: str
    def __init__(self, action_name: _Optional[str] = ..., input_json: _Optional[str] = ..., target: _Optional[str] = ..., description: _Optional[str] = ..., project_id: _Optional[str] = ..., namespace: _Optional[str] = ..., params_json: _Optional[str] = ..., custom_context_json: _Optional[str] = ...) -> None: ...

class StartActionResponse(_message.Message):
    __slots__ = ("action_execution_id",)
    ACTION_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    action_execution_id: str
    def __init__(self, action_execution_id: _Optional[str] = ...) -> None: ...

class CompleteActionRequest(_message.Message):
    __slots__ = ("action_execution_id", "state", "output_json")
    ACTION_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_JSON_FIELD_NUMBER: _ClassVar[int]
    action_execution_id: str
    state: str
    output_json: str
    def __init__(self, action_execution_id: _Optional[str] = ..., state: _Optional[str] = ..., output_json: _Optional[str] = ...) -> None: ...

class CompleteActionResponse(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: str
    def __init__(self, state: _Optional[str] = ...) -> None: ...

class UpdateExecutionStateRequest(_message.Message):
    __slots__ = ("execution_id", "state", "state_info", "env_json")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_INFO_FIELD_NUMBER: _ClassVar[int]
    ENV_JSON_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    state: str
    state_info: str
    env_json: str
    def __init__(self, execution_id: _Optional[str] = ..., state: _Optional[str] = ..., state_info: _Optional[str] = ..., env_json: _Optional[str] = ...) -> None: ...

class UpdateExecutionStateResponse(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: str
    def __init__(self, state: _Optional[str] = ...) -> None: ...
