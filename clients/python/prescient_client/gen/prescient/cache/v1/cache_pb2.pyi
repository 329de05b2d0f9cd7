from google.protobuf import timestamp_pb2 as _timestamp_pb2
from ....prescient.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
ON_MISS_COMPUTE: OnMiss
ON_MISS_ENQUEUE: OnMiss
ON_MISS_NONE: OnMiss
ON_MISS_UNSPECIFIED: OnMiss

class Counters(_message.Message):
    __slots__ = ["errors", "hit_rate", "hits", "misses", "stale_hits"]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    HITS_FIELD_NUMBER: _ClassVar[int]
    HIT_RATE_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    STALE_HITS_FIELD_NUMBER: _ClassVar[int]
    errors: int
    hit_rate: float
    hits: int
    misses: int
    stale_hits: int
    def __init__(self, hits: _Optional[int] = ..., stale_hits: _Optional[int] = ..., misses: _Optional[int] = ..., errors: _Optional[int] = ..., hit_rate: _Optional[float] = ...) -> None: ...

class GroupStats(_message.Message):
    __slots__ = ["counters", "name"]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    counters: Counters
    name: str
    def __init__(self, name: _Optional[str] = ..., counters: _Optional[_Union[Counters, _Mapping]] = ...) -> None: ...

class InvalidateRequest(_message.Message):
    __slots__ = ["key", "model_older_than", "pattern", "prefix", "tag", "task_type", "tenant"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    MODEL_OLDER_THAN_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.Key
    model_older_than: ModelVersionSelector
    pattern: str
    prefix: str
    tag: str
    task_type: str
    tenant: str
    def __init__(self, tenant: _Optional[str] = ..., key: _Optional[_Union[_common_pb2.Key, _Mapping]] = ..., prefix: _Optional[str] = ..., pattern: _Optional[str] = ..., tag: _Optional[str] = ..., task_type: _Optional[str] = ..., model_older_than: _Optional[_Union[ModelVersionSelector, _Mapping]] = ...) -> None: ...

class InvalidateResponse(_message.Message):
    __slots__ = ["removed"]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    removed: int
    def __init__(self, removed: _Optional[int] = ...) -> None: ...

class LookupManyRequest(_message.Message):
    __slots__ = ["entity_ids", "expiries_only", "keys", "on_miss", "peek", "reject_stale", "task_type", "tenant", "user_id", "values_only"]
    ENTITY_IDS_FIELD_NUMBER: _ClassVar[int]
    EXPIRIES_ONLY_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    ON_MISS_FIELD_NUMBER: _ClassVar[int]
    PEEK_FIELD_NUMBER: _ClassVar[int]
    REJECT_STALE_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    VALUES_ONLY_FIELD_NUMBER: _ClassVar[int]
    entity_ids: _containers.RepeatedScalarFieldContainer[str]
    expiries_only: bool
    keys: _containers.RepeatedCompositeFieldContainer[_common_pb2.Key]
    on_miss: OnMiss
    peek: bool
    reject_stale: bool
    task_type: str
    tenant: str
    user_id: str
    values_only: bool
    def __init__(self, keys: _Optional[_Iterable[_Union[_common_pb2.Key, _Mapping]]] = ..., on_miss: _Optional[_Union[OnMiss, str]] = ..., user_id: _Optional[str] = ..., reject_stale: bool = ..., peek: bool = ..., values_only: bool = ..., tenant: _Optional[str] = ..., task_type: _Optional[str] = ..., entity_ids: _Optional[_Iterable[str]] = ..., expiries_only: bool = ...) -> None: ...

class LookupManyResponse(_message.Message):
    __slots__ = ["expires_at_ms", "results", "values"]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    expires_at_ms: _containers.RepeatedScalarFieldContainer[int]
    results: _containers.RepeatedCompositeFieldContainer[LookupResponse]
    values: _containers.RepeatedCompositeFieldContainer[_common_pb2.Value]
    def __init__(self, results: _Optional[_Iterable[_Union[LookupResponse, _Mapping]]] = ..., values: _Optional[_Iterable[_Union[_common_pb2.Value, _Mapping]]] = ..., expires_at_ms: _Optional[_Iterable[int]] = ...) -> None: ...

class LookupRequest(_message.Message):
    __slots__ = ["features", "key", "on_miss", "reject_stale", "user_id"]
    class FeaturesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.FeatureValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.FeatureValue, _Mapping]] = ...) -> None: ...
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    ON_MISS_FIELD_NUMBER: _ClassVar[int]
    REJECT_STALE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    features: _containers.MessageMap[str, _common_pb2.FeatureValue]
    key: _common_pb2.Key
    on_miss: OnMiss
    reject_stale: bool
    user_id: str
    def __init__(self, key: _Optional[_Union[_common_pb2.Key, _Mapping]] = ..., on_miss: _Optional[_Union[OnMiss, str]] = ..., features: _Optional[_Mapping[str, _common_pb2.FeatureValue]] = ..., user_id: _Optional[str] = ..., reject_stale: bool = ...) -> None: ...

class LookupResponse(_message.Message):
    __slots__ = ["computed", "degraded", "hit", "key", "refresh_due", "result", "stale", "task_id"]
    COMPUTED_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    HIT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    REFRESH_DUE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    computed: bool
    degraded: bool
    hit: bool
    key: str
    refresh_due: bool
    result: _common_pb2.Result
    stale: bool
    task_id: str
    def __init__(self, key: _Optional[str] = ..., hit: bool = ..., result: _Optional[_Union[_common_pb2.Result, _Mapping]] = ..., stale: bool = ..., refresh_due: bool = ..., degraded: bool = ..., computed: bool = ..., task_id: _Optional[str] = ...) -> None: ...

class ModelVersionSelector(_message.Message):
    __slots__ = ["model_name", "older_than_version"]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    OLDER_THAN_VERSION_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    older_than_version: str
    def __init__(self, model_name: _Optional[str] = ..., older_than_version: _Optional[str] = ...) -> None: ...

class PutEntry(_message.Message):
    __slots__ = ["compute_ms", "computed_at", "input_digest", "key", "model_name", "model_version", "tags", "ttl_seconds", "value"]
    COMPUTED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_MS_FIELD_NUMBER: _ClassVar[int]
    INPUT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    compute_ms: float
    computed_at: _timestamp_pb2.Timestamp
    input_digest: str
    key: _common_pb2.Key
    model_name: str
    model_version: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    ttl_seconds: float
    value: _common_pb2.Value
    def __init__(self, key: _Optional[_Union[_common_pb2.Key, _Mapping]] = ..., value: _Optional[_Union[_common_pb2.Value, _Mapping]] = ..., model_name: _Optional[str] = ..., model_version: _Optional[str] = ..., compute_ms: _Optional[float] = ..., input_digest: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., ttl_seconds: _Optional[float] = ..., computed_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PutManyRequest(_message.Message):
    __slots__ = ["entries"]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[PutEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[PutEntry, _Mapping]]] = ...) -> None: ...

class PutManyResponse(_message.Message):
    __slots__ = ["keys"]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, keys: _Optional[_Iterable[str]] = ...) -> None: ...

class PutRequest(_message.Message):
    __slots__ = ["entry"]
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    entry: PutEntry
    def __init__(self, entry: _Optional[_Union[PutEntry, _Mapping]] = ...) -> None: ...

class PutResponse(_message.Message):
    __slots__ = ["expires_at", "key"]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    expires_at: _timestamp_pb2.Timestamp
    key: str
    def __init__(self, key: _Optional[str] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StatsRequest(_message.Message):
    __slots__ = ["task_type", "tenant"]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    task_type: str
    tenant: str
    def __init__(self, tenant: _Optional[str] = ..., task_type: _Optional[str] = ...) -> None: ...

class StatsResponse(_message.Message):
    __slots__ = ["by_task_type", "by_tenant", "bytes", "entries", "store", "total"]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    BY_TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    BY_TENANT_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    by_task_type: _containers.RepeatedCompositeFieldContainer[GroupStats]
    by_tenant: _containers.RepeatedCompositeFieldContainer[GroupStats]
    bytes: int
    entries: int
    store: str
    total: Counters
    def __init__(self, total: _Optional[_Union[Counters, _Mapping]] = ..., by_task_type: _Optional[_Iterable[_Union[GroupStats, _Mapping]]] = ..., by_tenant: _Optional[_Iterable[_Union[GroupStats, _Mapping]]] = ..., entries: _Optional[int] = ..., bytes: _Optional[int] = ..., store: _Optional[str] = ...) -> None: ...

class TakeRefreshDueRequest(_message.Message):
    __slots__ = ["limit"]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class TakeRefreshDueResponse(_message.Message):
    __slots__ = ["keys"]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, keys: _Optional[_Iterable[str]] = ...) -> None: ...

class OnMiss(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
