from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
KEY_BY_ENTITY: KeyBy
KEY_BY_RELATED: KeyBy
KEY_BY_UNSPECIFIED: KeyBy
KEY_BY_USER: KeyBy
LOOKUP_OUTCOME_HIT: LookupOutcome
LOOKUP_OUTCOME_MISS: LookupOutcome
LOOKUP_OUTCOME_STALE: LookupOutcome
LOOKUP_OUTCOME_UNSPECIFIED: LookupOutcome
PREDICTION_SOURCE_FREQUENCY: PredictionSource
PREDICTION_SOURCE_MARKOV: PredictionSource
PREDICTION_SOURCE_MODEL: PredictionSource
PREDICTION_SOURCE_UNSPECIFIED: PredictionSource

class ActionEvent(_message.Message):
    __slots__ = ["action", "attributes", "related_entity_ids", "tenant", "time", "user_id"]
    class AttributesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    RELATED_ENTITY_IDS_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    action: str
    attributes: _containers.ScalarMap[str, str]
    related_entity_ids: _containers.RepeatedScalarFieldContainer[str]
    tenant: str
    time: _timestamp_pb2.Timestamp
    user_id: str
    def __init__(self, time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., tenant: _Optional[str] = ..., user_id: _Optional[str] = ..., action: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ..., related_entity_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ActionProbability(_message.Message):
    __slots__ = ["action", "probability"]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    action: str
    probability: float
    def __init__(self, action: _Optional[str] = ..., probability: _Optional[float] = ...) -> None: ...

class CleanupRequest(_message.Message):
    __slots__ = ["days_to_keep"]
    DAYS_TO_KEEP_FIELD_NUMBER: _ClassVar[int]
    days_to_keep: int
    def __init__(self, days_to_keep: _Optional[int] = ...) -> None: ...

class CleanupResponse(_message.Message):
    __slots__ = ["removed"]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    removed: int
    def __init__(self, removed: _Optional[int] = ...) -> None: ...

class DomainEvent(_message.Message):
    __slots__ = ["entity_id", "related_entity_ids", "tenant", "time", "type", "user_id"]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    RELATED_ENTITY_IDS_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    entity_id: str
    related_entity_ids: _containers.RepeatedScalarFieldContainer[str]
    tenant: str
    time: _timestamp_pb2.Timestamp
    type: str
    user_id: str
    def __init__(self, time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., tenant: _Optional[str] = ..., type: _Optional[str] = ..., entity_id: _Optional[str] = ..., user_id: _Optional[str] = ..., related_entity_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class KeyConfidence(_message.Message):
    __slots__ = ["confidence", "key"]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    confidence: float
    key: str
    def __init__(self, key: _Optional[str] = ..., confidence: _Optional[float] = ...) -> None: ...

class Launch(_message.Message):
    __slots__ = ["campaign_id", "entity_ids", "event", "id", "launch_at", "task_types", "tenant"]
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITY_IDS_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    LAUNCH_AT_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPES_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    entity_ids: _containers.RepeatedScalarFieldContainer[str]
    event: str
    id: str
    launch_at: _timestamp_pb2.Timestamp
    task_types: _containers.RepeatedScalarFieldContainer[str]
    tenant: str
    def __init__(self, id: _Optional[str] = ..., tenant: _Optional[str] = ..., campaign_id: _Optional[str] = ..., launch_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., entity_ids: _Optional[_Iterable[str]] = ..., task_types: _Optional[_Iterable[str]] = ..., event: _Optional[str] = ...) -> None: ...

class LearnedRule(_message.Message):
    __slots__ = ["event", "support", "targets", "tenant"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    event: str
    support: float
    targets: _containers.RepeatedCompositeFieldContainer[LearnedTarget]
    tenant: str
    def __init__(self, tenant: _Optional[str] = ..., event: _Optional[str] = ..., support: _Optional[float] = ..., targets: _Optional[_Iterable[_Union[LearnedTarget, _Mapping]]] = ...) -> None: ...

class LearnedRulesRequest(_message.Message):
    __slots__ = ["tenant"]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    def __init__(self, tenant: _Optional[str] = ...) -> None: ...

class LearnedRulesResponse(_message.Message):
    __slots__ = ["rules"]
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[LearnedRule]
    def __init__(self, rules: _Optional[_Iterable[_Union[LearnedRule, _Mapping]]] = ...) -> None: ...

class LearnedTarget(_message.Message):
    __slots__ = ["key_by", "mean_delay_ms", "probability", "task_type"]
    KEY_BY_FIELD_NUMBER: _ClassVar[int]
    MEAN_DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    key_by: KeyBy
    mean_delay_ms: float
    probability: float
    task_type: str
    def __init__(self, task_type: _Optional[str] = ..., key_by: _Optional[_Union[KeyBy, str]] = ..., probability: _Optional[float] = ..., mean_delay_ms: _Optional[float] = ...) -> None: ...

class ListUpcomingLaunchesRequest(_message.Message):
    __slots__ = ["hours_ahead", "tenant"]
    HOURS_AHEAD_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    hours_ahead: float
    tenant: str
    def __init__(self, hours_ahead: _Optional[float] = ..., tenant: _Optional[str] = ...) -> None: ...

class ListUpcomingLaunchesResponse(_message.Message):
    __slots__ = ["launches"]
    LAUNCHES_FIELD_NUMBER: _ClassVar[int]
    launches: _containers.RepeatedCompositeFieldContainer[Launch]
    def __init__(self, launches: _Optional[_Iterable[_Union[Launch, _Mapping]]] = ...) -> None: ...

class ModelMetrics(_message.Message):
    __slots__ = ["examples", "log_loss", "top1_accuracy"]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    LOG_LOSS_FIELD_NUMBER: _ClassVar[int]
    TOP1_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    examples: int
    log_loss: float
    top1_accuracy: float
    def __init__(self, top1_accuracy: _Optional[float] = ..., log_loss: _Optional[float] = ..., examples: _Optional[int] = ...) -> None: ...

class OffPeakWindowRequest(_message.Message):
    __slots__ = ["duration_minutes", "timezone"]
    DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    duration_minutes: int
    timezone: str
    def __init__(self, duration_minutes: _Optional[int] = ..., timezone: _Optional[str] = ...) -> None: ...

class OffPeakWindowResponse(_message.Message):
    __slots__ = ["duration_minutes", "explanation", "is_default", "next_start", "relative_load", "start_minute_of_week"]
    DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    NEXT_START_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_LOAD_FIELD_NUMBER: _ClassVar[int]
    START_MINUTE_OF_WEEK_FIELD_NUMBER: _ClassVar[int]
    duration_minutes: int
    explanation: str
    is_default: bool
    next_start: _timestamp_pb2.Timestamp
    relative_load: float
    start_minute_of_week: int
    def __init__(self, start_minute_of_week: _Optional[int] = ..., duration_minutes: _Optional[int] = ..., next_start: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., is_default: bool = ..., explanation: _Optional[str] = ..., relative_load: _Optional[float] = ...) -> None: ...

class Pattern(_message.Message):
    __slots__ = ["benefit", "compute_ms", "demand", "entity_id", "key", "miss_probability", "task_type", "tenant"]
    BENEFIT_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_MS_FIELD_NUMBER: _ClassVar[int]
    DEMAND_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    MISS_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    benefit: float
    compute_ms: float
    demand: float
    entity_id: str
    key: str
    miss_probability: float
    task_type: str
    tenant: str
    def __init__(self, key: _Optional[str] = ..., tenant: _Optional[str] = ..., task_type: _Optional[str] = ..., entity_id: _Optional[str] = ..., demand: _Optional[float] = ..., compute_ms: _Optional[float] = ..., miss_probability: _Optional[float] = ..., benefit: _Optional[float] = ...) -> None: ...

class PredictNextActionsRequest(_message.Message):
    __slots__ = ["at", "limit", "tenant", "user_id"]
    AT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    limit: int
    tenant: str
    user_id: str
    def __init__(self, tenant: _Optional[str] = ..., user_id: _Optional[str] = ..., limit: _Optional[int] = ..., at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PredictNextActionsResponse(_message.Message):
    __slots__ = ["actions", "fallback_reason", "model_version", "source"]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_REASON_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    actions: _containers.RepeatedCompositeFieldContainer[ActionProbability]
    fallback_reason: str
    model_version: str
    source: PredictionSource
    def __init__(self, actions: _Optional[_Iterable[_Union[ActionProbability, _Mapping]]] = ..., source: _Optional[_Union[PredictionSource, str]] = ..., model_version: _Optional[str] = ..., fallback_reason: _Optional[str] = ...) -> None: ...

class PredictNextKeysRequest(_message.Message):
    __slots__ = ["key", "limit"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    key: str
    limit: int
    def __init__(self, key: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class PredictNextKeysResponse(_message.Message):
    __slots__ = ["keys"]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[KeyConfidence]
    def __init__(self, keys: _Optional[_Iterable[_Union[KeyConfidence, _Mapping]]] = ...) -> None: ...

class QueryEvent(_message.Message):
    __slots__ = ["compute_ms", "entity_id", "key", "latency_ms", "outcome", "task_type", "tenant", "time", "user_id"]
    COMPUTE_MS_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    compute_ms: float
    entity_id: str
    key: str
    latency_ms: float
    outcome: LookupOutcome
    task_type: str
    tenant: str
    time: _timestamp_pb2.Timestamp
    user_id: str
    def __init__(self, time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., tenant: _Optional[str] = ..., task_type: _Optional[str] = ..., entity_id: _Optional[str] = ..., key: _Optional[str] = ..., user_id: _Optional[str] = ..., outcome: _Optional[_Union[LookupOutcome, str]] = ..., compute_ms: _Optional[float] = ..., latency_ms: _Optional[float] = ...) -> None: ...

class ReadMark(_message.Message):
    __slots__ = ["mark"]
    MARK_FIELD_NUMBER: _ClassVar[int]
    mark: float
    def __init__(self, mark: _Optional[float] = ...) -> None: ...

class ReadMarksRequest(_message.Message):
    __slots__ = ["keys"]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, keys: _Optional[_Iterable[str]] = ...) -> None: ...

class ReadMarksResponse(_message.Message):
    __slots__ = ["marks"]
    MARKS_FIELD_NUMBER: _ClassVar[int]
    marks: _containers.RepeatedCompositeFieldContainer[ReadMark]
    def __init__(self, marks: _Optional[_Iterable[_Union[ReadMark, _Mapping]]] = ...) -> None: ...

class RecordActionsRequest(_message.Message):
    __slots__ = ["events"]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[ActionEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[ActionEvent, _Mapping]]] = ...) -> None: ...

class RecordActionsResponse(_message.Message):
    __slots__ = ["accepted", "rejected", "rejections"]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    rejected: int
    rejections: _containers.RepeatedCompositeFieldContainer[Rejection]
    def __init__(self, accepted: _Optional[int] = ..., rejected: _Optional[int] = ..., rejections: _Optional[_Iterable[_Union[Rejection, _Mapping]]] = ...) -> None: ...

class RecordEventsRequest(_message.Message):
    __slots__ = ["events"]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[DomainEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[DomainEvent, _Mapping]]] = ...) -> None: ...

class RecordEventsResponse(_message.Message):
    __slots__ = ["accepted", "rejected", "rejections"]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    rejected: int
    rejections: _containers.RepeatedCompositeFieldContainer[Rejection]
    def __init__(self, accepted: _Optional[int] = ..., rejected: _Optional[int] = ..., rejections: _Optional[_Iterable[_Union[Rejection, _Mapping]]] = ...) -> None: ...

class RecordQueriesRequest(_message.Message):
    __slots__ = ["events"]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[QueryEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[QueryEvent, _Mapping]]] = ...) -> None: ...

class RecordQueriesResponse(_message.Message):
    __slots__ = ["accepted", "rejected", "rejections"]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    rejected: int
    rejections: _containers.RepeatedCompositeFieldContainer[Rejection]
    def __init__(self, accepted: _Optional[int] = ..., rejected: _Optional[int] = ..., rejections: _Optional[_Iterable[_Union[Rejection, _Mapping]]] = ...) -> None: ...

class RecordQueryBatchRequest(_message.Message):
    __slots__ = ["events"]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[QueryEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[QueryEvent, _Mapping]]] = ...) -> None: ...

class RecordQueryBatchResponse(_message.Message):
    __slots__ = ["accepted", "rejected", "rejections"]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    rejected: int
    rejections: _containers.RepeatedCompositeFieldContainer[Rejection]
    def __init__(self, accepted: _Optional[int] = ..., rejected: _Optional[int] = ..., rejections: _Optional[_Iterable[_Union[Rejection, _Mapping]]] = ...) -> None: ...

class RegisterLaunchRequest(_message.Message):
    __slots__ = ["launch"]
    LAUNCH_FIELD_NUMBER: _ClassVar[int]
    launch: Launch
    def __init__(self, launch: _Optional[_Union[Launch, _Mapping]] = ...) -> None: ...

class RegisterLaunchResponse(_message.Message):
    __slots__ = ["launch"]
    LAUNCH_FIELD_NUMBER: _ClassVar[int]
    launch: Launch
    def __init__(self, launch: _Optional[_Union[Launch, _Mapping]] = ...) -> None: ...

class Rejection(_message.Message):
    __slots__ = ["index", "reason"]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    index: int
    reason: str
    def __init__(self, index: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class RelatedEntitiesRequest(_message.Message):
    __slots__ = ["limit", "subject", "task_type", "tenant"]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    subject: str
    task_type: str
    tenant: str
    def __init__(self, tenant: _Optional[str] = ..., subject: _Optional[str] = ..., limit: _Optional[int] = ..., task_type: _Optional[str] = ...) -> None: ...

class RelatedEntitiesResponse(_message.Message):
    __slots__ = ["entities"]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    entities: _containers.RepeatedCompositeFieldContainer[RelatedEntity]
    def __init__(self, entities: _Optional[_Iterable[_Union[RelatedEntity, _Mapping]]] = ...) -> None: ...

class RelatedEntity(_message.Message):
    __slots__ = ["entity_id", "weight"]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    entity_id: str
    weight: float
    def __init__(self, entity_id: _Optional[str] = ..., weight: _Optional[float] = ...) -> None: ...

class RetrainNextActionRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RetrainNextActionResponse(_message.Message):
    __slots__ = ["candidate", "current", "explanation", "frequency_baseline", "markov_baseline", "promoted", "version"]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_BASELINE_FIELD_NUMBER: _ClassVar[int]
    MARKOV_BASELINE_FIELD_NUMBER: _ClassVar[int]
    PROMOTED_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    candidate: ModelMetrics
    current: ModelMetrics
    explanation: str
    frequency_baseline: ModelMetrics
    markov_baseline: ModelMetrics
    promoted: bool
    version: str
    def __init__(self, candidate: _Optional[_Union[ModelMetrics, _Mapping]] = ..., current: _Optional[_Union[ModelMetrics, _Mapping]] = ..., markov_baseline: _Optional[_Union[ModelMetrics, _Mapping]] = ..., frequency_baseline: _Optional[_Union[ModelMetrics, _Mapping]] = ..., promoted: bool = ..., version: _Optional[str] = ..., explanation: _Optional[str] = ...) -> None: ...

class TakeReadAheadRequest(_message.Message):
    __slots__ = ["limit", "min_confidence"]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    MIN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    limit: int
    min_confidence: float
    def __init__(self, limit: _Optional[int] = ..., min_confidence: _Optional[float] = ...) -> None: ...

class TakeReadAheadResponse(_message.Message):
    __slots__ = ["keys"]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[KeyConfidence]
    def __init__(self, keys: _Optional[_Iterable[_Union[KeyConfidence, _Mapping]]] = ...) -> None: ...

class TopPatternsRequest(_message.Message):
    __slots__ = ["limit", "task_type", "tenant"]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    task_type: str
    tenant: str
    def __init__(self, limit: _Optional[int] = ..., task_type: _Optional[str] = ..., tenant: _Optional[str] = ...) -> None: ...

class TopPatternsResponse(_message.Message):
    __slots__ = ["patterns"]
    PATTERNS_FIELD_NUMBER: _ClassVar[int]
    patterns: _containers.RepeatedCompositeFieldContainer[Pattern]
    def __init__(self, patterns: _Optional[_Iterable[_Union[Pattern, _Mapping]]] = ...) -> None: ...

class LookupOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class PredictionSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class KeyBy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
