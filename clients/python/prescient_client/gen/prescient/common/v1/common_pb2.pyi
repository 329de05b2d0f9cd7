from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
TASK_REASON_LAUNCH: TaskReason
TASK_REASON_MANUAL: TaskReason
TASK_REASON_MISS: TaskReason
TASK_REASON_PREDICTED: TaskReason
TASK_REASON_REFRESH: TaskReason
TASK_REASON_SCHEDULE: TaskReason
TASK_REASON_TRIGGER: TaskReason
TASK_REASON_UNSPECIFIED: TaskReason

class FeatureValue(_message.Message):
    __slots__ = ["number", "text"]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    number: float
    text: str
    def __init__(self, number: _Optional[float] = ..., text: _Optional[str] = ...) -> None: ...

class Key(_message.Message):
    __slots__ = ["entity_id", "input_digest", "inputs", "task_type", "tenant"]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    INPUT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    entity_id: str
    input_digest: str
    inputs: _struct_pb2.Struct
    task_type: str
    tenant: str
    def __init__(self, tenant: _Optional[str] = ..., task_type: _Optional[str] = ..., entity_id: _Optional[str] = ..., input_digest: _Optional[str] = ..., inputs: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Result(_message.Message):
    __slots__ = ["compute_ms", "computed_at", "expires_at", "input_digest", "model_name", "model_version", "tags", "value"]
    COMPUTED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_MS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    INPUT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    compute_ms: float
    computed_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    input_digest: str
    model_name: str
    model_version: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    value: Value
    def __init__(self, value: _Optional[_Union[Value, _Mapping]] = ..., model_name: _Optional[str] = ..., model_version: _Optional[str] = ..., computed_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., compute_ms: _Optional[float] = ..., input_digest: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class Tensor(_message.Message):
    __slots__ = ["data", "datatype", "name", "shape"]
    DATATYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    data: _containers.RepeatedScalarFieldContainer[float]
    datatype: str
    name: str
    shape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, name: _Optional[str] = ..., datatype: _Optional[str] = ..., shape: _Optional[_Iterable[int]] = ..., data: _Optional[_Iterable[float]] = ...) -> None: ...

class Tensors(_message.Message):
    __slots__ = ["tensors"]
    TENSORS_FIELD_NUMBER: _ClassVar[int]
    tensors: _containers.RepeatedCompositeFieldContainer[Tensor]
    def __init__(self, tensors: _Optional[_Iterable[_Union[Tensor, _Mapping]]] = ...) -> None: ...

class Value(_message.Message):
    __slots__ = ["content_type", "payload", "tensors"]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    TENSORS_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    payload: bytes
    tensors: Tensors
    def __init__(self, tensors: _Optional[_Union[Tensors, _Mapping]] = ..., payload: _Optional[bytes] = ..., content_type: _Optional[str] = ...) -> None: ...

class TaskReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
