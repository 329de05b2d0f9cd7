from google.protobuf import timestamp_pb2 as _timestamp_pb2
from ....prescient.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
TASK_STATE_COMPLETED: TaskState
TASK_STATE_DEAD: TaskState
TASK_STATE_FAILED: TaskState
TASK_STATE_PROCESSING: TaskState
TASK_STATE_QUEUED: TaskState
TASK_STATE_UNSPECIFIED: TaskState

class ComputeRequest(_message.Message):
    __slots__ = ["features", "key"]
    class FeaturesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.FeatureValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.FeatureValue, _Mapping]] = ...) -> None: ...
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    features: _containers.MessageMap[str, _common_pb2.FeatureValue]
    key: _common_pb2.Key
    def __init__(self, key: _Optional[_Union[_common_pb2.Key, _Mapping]] = ..., features: _Optional[_Mapping[str, _common_pb2.FeatureValue]] = ...) -> None: ...

class ComputeResponse(_message.Message):
    __slots__ = ["coalesced", "key", "result"]
    COALESCED_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    coalesced: bool
    key: str
    result: _common_pb2.Result
    def __init__(self, key: _Optional[str] = ..., result: _Optional[_Union[_common_pb2.Result, _Mapping]] = ..., coalesced: bool = ...) -> None: ...

class EnqueueManyRequest(_message.Message):
    __slots__ = ["tasks"]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[TaskSpec]
    def __init__(self, tasks: _Optional[_Iterable[_Union[TaskSpec, _Mapping]]] = ...) -> None: ...

class EnqueueManyResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[EnqueueOutcome]
    def __init__(self, results: _Optional[_Iterable[_Union[EnqueueOutcome, _Mapping]]] = ...) -> None: ...

class EnqueueOutcome(_message.Message):
    __slots__ = ["deduplicated", "task_id"]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    deduplicated: bool
    task_id: str
    def __init__(self, task_id: _Optional[str] = ..., deduplicated: bool = ...) -> None: ...

class EnqueueRequest(_message.Message):
    __slots__ = ["task"]
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: TaskSpec
    def __init__(self, task: _Optional[_Union[TaskSpec, _Mapping]] = ...) -> None: ...

class EnqueueResponse(_message.Message):
    __slots__ = ["deduplicated", "task_id"]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    deduplicated: bool
    task_id: str
    def __init__(self, task_id: _Optional[str] = ..., deduplicated: bool = ...) -> None: ...

class EntityRef(_message.Message):
    __slots__ = ["entity_id", "tenant"]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    entity_id: str
    tenant: str
    def __init__(self, tenant: _Optional[str] = ..., entity_id: _Optional[str] = ...) -> None: ...

class FeaturesStoredRequest(_message.Message):
    __slots__ = ["entities"]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    entities: _containers.RepeatedCompositeFieldContainer[EntityRef]
    def __init__(self, entities: _Optional[_Iterable[_Union[EntityRef, _Mapping]]] = ...) -> None: ...

class FeaturesStoredResponse(_message.Message):
    __slots__ = ["stored"]
    STORED_FIELD_NUMBER: _ClassVar[int]
    stored: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, stored: _Optional[_Iterable[bool]] = ...) -> None: ...

class GetTaskRequest(_message.Message):
    __slots__ = ["id", "key"]
    ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    key: str
    def __init__(self, id: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class GetTaskResponse(_message.Message):
    __slots__ = ["task"]
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: Task
    def __init__(self, task: _Optional[_Union[Task, _Mapping]] = ...) -> None: ...

class HandleItem(_message.Message):
    __slots__ = ["entity_id", "features", "key", "task_id", "tenant"]
    class FeaturesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.FeatureValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.FeatureValue, _Mapping]] = ...) -> None: ...
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    entity_id: str
    features: _containers.MessageMap[str, _common_pb2.FeatureValue]
    key: str
    task_id: str
    tenant: str
    def __init__(self, task_id: _Optional[str] = ..., key: _Optional[str] = ..., tenant: _Optional[str] = ..., entity_id: _Optional[str] = ..., features: _Optional[_Mapping[str, _common_pb2.FeatureValue]] = ...) -> None: ...

class HandleItemResult(_message.Message):
    __slots__ = ["error", "model_name", "model_version", "task_id", "value"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    error: str
    model_name: str
    model_version: str
    task_id: str
    value: _common_pb2.Value
    def __init__(self, task_id: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Value, _Mapping]] = ..., error: _Optional[str] = ..., model_name: _Optional[str] = ..., model_version: _Optional[str] = ...) -> None: ...

class HandleRequest(_message.Message):
    __slots__ = ["items", "task_type"]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[HandleItem]
    task_type: str
    def __init__(self, task_type: _Optional[str] = ..., items: _Optional[_Iterable[_Union[HandleItem, _Mapping]]] = ...) -> None: ...

class HandleResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[HandleItemResult]
    def __init__(self, results: _Optional[_Iterable[_Union[HandleItemResult, _Mapping]]] = ...) -> None: ...

class ListDeadLettersRequest(_message.Message):
    __slots__ = ["page_size", "page_token"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDeadLettersResponse(_message.Message):
    __slots__ = ["next_page_token", "tasks"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    tasks: _containers.RepeatedCompositeFieldContainer[Task]
    def __init__(self, tasks: _Optional[_Iterable[_Union[Task, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PauseRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class PauseResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class PriorityCounts(_message.Message):
    __slots__ = ["priority", "queued"]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    priority: int
    queued: int
    def __init__(self, priority: _Optional[int] = ..., queued: _Optional[int] = ...) -> None: ...

class PurgeDeadLettersRequest(_message.Message):
    __slots__ = ["all", "ids"]
    ALL_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    all: bool
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., all: bool = ...) -> None: ...

class PurgeDeadLettersResponse(_message.Message):
    __slots__ = ["purged"]
    PURGED_FIELD_NUMBER: _ClassVar[int]
    purged: int
    def __init__(self, purged: _Optional[int] = ...) -> None: ...

class QueueStatsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class QueueStatsResponse(_message.Message):
    __slots__ = ["by_priority", "by_task_type", "capacity", "paused", "total"]
    BY_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    BY_TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    by_priority: _containers.RepeatedCompositeFieldContainer[PriorityCounts]
    by_task_type: _containers.RepeatedCompositeFieldContainer[TaskTypeCounts]
    capacity: int
    paused: bool
    total: StateCounts
    def __init__(self, total: _Optional[_Union[StateCounts, _Mapping]] = ..., by_task_type: _Optional[_Iterable[_Union[TaskTypeCounts, _Mapping]]] = ..., by_priority: _Optional[_Iterable[_Union[PriorityCounts, _Mapping]]] = ..., capacity: _Optional[int] = ..., paused: bool = ...) -> None: ...

class RequeueDeadLettersRequest(_message.Message):
    __slots__ = ["all", "ids"]
    ALL_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    all: bool
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., all: bool = ...) -> None: ...

class RequeueDeadLettersResponse(_message.Message):
    __slots__ = ["requeued"]
    REQUEUED_FIELD_NUMBER: _ClassVar[int]
    requeued: int
    def __init__(self, requeued: _Optional[int] = ...) -> None: ...

class ResumeRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ResumeResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class StateCounts(_message.Message):
    __slots__ = ["completed", "dead", "delayed", "failed", "processing", "queued"]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    DEAD_FIELD_NUMBER: _ClassVar[int]
    DELAYED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    completed: int
    dead: int
    delayed: int
    failed: int
    processing: int
    queued: int
    def __init__(self, queued: _Optional[int] = ..., delayed: _Optional[int] = ..., processing: _Optional[int] = ..., completed: _Optional[int] = ..., failed: _Optional[int] = ..., dead: _Optional[int] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ["attempts", "created_at", "id", "key", "last_error", "not_before", "priority", "reasons", "state", "task_type", "tenant", "traceparent", "updated_at"]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    TRACEPARENT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    attempts: int
    created_at: _timestamp_pb2.Timestamp
    id: str
    key: str
    last_error: str
    not_before: _timestamp_pb2.Timestamp
    priority: int
    reasons: _containers.RepeatedScalarFieldContainer[_common_pb2.TaskReason]
    state: TaskState
    task_type: str
    tenant: str
    traceparent: str
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., key: _Optional[str] = ..., task_type: _Optional[str] = ..., tenant: _Optional[str] = ..., priority: _Optional[int] = ..., reasons: _Optional[_Iterable[_Union[_common_pb2.TaskReason, str]]] = ..., state: _Optional[_Union[TaskState, str]] = ..., attempts: _Optional[int] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., not_before: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., traceparent: _Optional[str] = ...) -> None: ...

class TaskSpec(_message.Message):
    __slots__ = ["features", "key", "not_before", "priority", "reason"]
    class FeaturesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.FeatureValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.FeatureValue, _Mapping]] = ...) -> None: ...
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    features: _containers.MessageMap[str, _common_pb2.FeatureValue]
    key: _common_pb2.Key
    not_before: _timestamp_pb2.Timestamp
    priority: int
    reason: _common_pb2.TaskReason
    def __init__(self, key: _Optional[_Union[_common_pb2.Key, _Mapping]] = ..., priority: _Optional[int] = ..., reason: _Optional[_Union[_common_pb2.TaskReason, str]] = ..., not_before: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., features: _Optional[_Mapping[str, _common_pb2.FeatureValue]] = ...) -> None: ...

class TaskTypeCounts(_message.Message):
    __slots__ = ["counts", "task_type"]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    counts: StateCounts
    task_type: str
    def __init__(self, task_type: _Optional[str] = ..., counts: _Optional[_Union[StateCounts, _Mapping]] = ...) -> None: ...

class TaskState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
