from google.protobuf import timestamp_pb2 as _timestamp_pb2
from ....prescient.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
RUN_STATUS_FAILED: RunStatus
RUN_STATUS_RUNNING: RunStatus
RUN_STATUS_SUCCEEDED: RunStatus
RUN_STATUS_UNSPECIFIED: RunStatus

class AlertStatus(_message.Message):
    __slots__ = ["firing", "message", "name", "threshold", "value"]
    FIRING_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    firing: bool
    message: str
    name: str
    threshold: float
    value: float
    def __init__(self, name: _Optional[str] = ..., firing: bool = ..., value: _Optional[float] = ..., threshold: _Optional[float] = ..., message: _Optional[str] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ["attributes", "entity_id", "features", "related_entity_ids", "tenant", "time", "type", "user_id"]
    class AttributesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class FeaturesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.FeatureValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.FeatureValue, _Mapping]] = ...) -> None: ...
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    RELATED_ENTITY_IDS_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    attributes: _containers.ScalarMap[str, str]
    entity_id: str
    features: _containers.MessageMap[str, _common_pb2.FeatureValue]
    related_entity_ids: _containers.RepeatedScalarFieldContainer[str]
    tenant: str
    time: _timestamp_pb2.Timestamp
    type: str
    user_id: str
    def __init__(self, type: _Optional[str] = ..., tenant: _Optional[str] = ..., entity_id: _Optional[str] = ..., user_id: _Optional[str] = ..., features: _Optional[_Mapping[str, _common_pb2.FeatureValue]] = ..., attributes: _Optional[_Mapping[str, str]] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., related_entity_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ["limit", "schedule"]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    limit: int
    schedule: str
    def __init__(self, schedule: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ["runs"]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[ScheduleRun]
    def __init__(self, runs: _Optional[_Iterable[_Union[ScheduleRun, _Mapping]]] = ...) -> None: ...

class QueuedTasks(_message.Message):
    __slots__ = ["task_ids", "task_type"]
    TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    task_ids: _containers.RepeatedScalarFieldContainer[str]
    task_type: str
    def __init__(self, task_type: _Optional[str] = ..., task_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ReasonCount(_message.Message):
    __slots__ = ["count", "name"]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    count: int
    name: str
    def __init__(self, name: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class RefreshRequest(_message.Message):
    __slots__ = ["entity_prefix", "task_type", "tenant"]
    ENTITY_PREFIX_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    entity_prefix: str
    task_type: str
    tenant: str
    def __init__(self, task_type: _Optional[str] = ..., tenant: _Optional[str] = ..., entity_prefix: _Optional[str] = ...) -> None: ...

class RefreshResponse(_message.Message):
    __slots__ = ["enqueued"]
    ENQUEUED_FIELD_NUMBER: _ClassVar[int]
    enqueued: int
    def __init__(self, enqueued: _Optional[int] = ...) -> None: ...

class RunScheduleNowRequest(_message.Message):
    __slots__ = ["schedule"]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    schedule: str
    def __init__(self, schedule: _Optional[str] = ...) -> None: ...

class RunScheduleNowResponse(_message.Message):
    __slots__ = ["run"]
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: ScheduleRun
    def __init__(self, run: _Optional[_Union[ScheduleRun, _Mapping]] = ...) -> None: ...

class ScheduleRun(_message.Message):
    __slots__ = ["error", "finished_at", "items", "owner", "schedule", "started_at", "status", "window_start"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_START_FIELD_NUMBER: _ClassVar[int]
    error: str
    finished_at: _timestamp_pb2.Timestamp
    items: int
    owner: str
    schedule: str
    started_at: _timestamp_pb2.Timestamp
    status: RunStatus
    window_start: _timestamp_pb2.Timestamp
    def __init__(self, schedule: _Optional[str] = ..., window_start: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., items: _Optional[int] = ..., status: _Optional[_Union[RunStatus, str]] = ..., error: _Optional[str] = ..., owner: _Optional[str] = ...) -> None: ...

class StatsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class StatsResponse(_message.Message):
    __slots__ = ["alerts", "budget_limit", "budget_pressure", "budget_used", "enqueued_by_reason", "enqueued_by_task_type", "skipped_by_reason"]
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    BUDGET_LIMIT_FIELD_NUMBER: _ClassVar[int]
    BUDGET_PRESSURE_FIELD_NUMBER: _ClassVar[int]
    BUDGET_USED_FIELD_NUMBER: _ClassVar[int]
    ENQUEUED_BY_REASON_FIELD_NUMBER: _ClassVar[int]
    ENQUEUED_BY_TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_BY_REASON_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[AlertStatus]
    budget_limit: int
    budget_pressure: float
    budget_used: int
    enqueued_by_reason: _containers.RepeatedCompositeFieldContainer[ReasonCount]
    enqueued_by_task_type: _containers.RepeatedCompositeFieldContainer[ReasonCount]
    skipped_by_reason: _containers.RepeatedCompositeFieldContainer[ReasonCount]
    def __init__(self, enqueued_by_reason: _Optional[_Iterable[_Union[ReasonCount, _Mapping]]] = ..., enqueued_by_task_type: _Optional[_Iterable[_Union[ReasonCount, _Mapping]]] = ..., skipped_by_reason: _Optional[_Iterable[_Union[ReasonCount, _Mapping]]] = ..., budget_used: _Optional[int] = ..., budget_limit: _Optional[int] = ..., alerts: _Optional[_Iterable[_Union[AlertStatus, _Mapping]]] = ..., budget_pressure: _Optional[float] = ...) -> None: ...

class TriggerManyRequest(_message.Message):
    __slots__ = ["events"]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class TriggerManyResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[TriggerResponse]
    def __init__(self, results: _Optional[_Iterable[_Union[TriggerResponse, _Mapping]]] = ...) -> None: ...

class TriggerRequest(_message.Message):
    __slots__ = ["event"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: Event
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class TriggerResponse(_message.Message):
    __slots__ = ["queued", "skipped_fresh"]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FRESH_FIELD_NUMBER: _ClassVar[int]
    queued: _containers.RepeatedCompositeFieldContainer[QueuedTasks]
    skipped_fresh: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, queued: _Optional[_Iterable[_Union[QueuedTasks, _Mapping]]] = ..., skipped_fresh: _Optional[_Iterable[str]] = ...) -> None: ...

class WarmRequest(_message.Message):
    __slots__ = ["entity_ids", "priority", "task_types", "tenant"]
    ENTITY_IDS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPES_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    entity_ids: _containers.RepeatedScalarFieldContainer[str]
    priority: int
    task_types: _containers.RepeatedScalarFieldContainer[str]
    tenant: str
    def __init__(self, tenant: _Optional[str] = ..., entity_ids: _Optional[_Iterable[str]] = ..., task_types: _Optional[_Iterable[str]] = ..., priority: _Optional[int] = ...) -> None: ...

class WarmResponse(_message.Message):
    __slots__ = ["queued"]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    queued: _containers.RepeatedCompositeFieldContainer[QueuedTasks]
    def __init__(self, queued: _Optional[_Iterable[_Union[QueuedTasks, _Mapping]]] = ...) -> None: ...

class RunStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
