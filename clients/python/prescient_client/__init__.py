"""Python client of prescient: cache lookups and puts, event triggers and OIP inference over gRPC.

>>> from prescient_client import PrescientClient
>>> with PrescientClient("127.0.0.1:50051") as client:
...     result = client.lookup("acme/ctr_prediction/ad-42")
"""

from .canonical_json import canonical_json, input_digest
from .client import DEFAULT_DEADLINE_S, PrescientClient, PutEntry, __version__, service_config
from .errors import (
    AbortedError,
    AlreadyExistsError,
    CancelledError,
    DataLossError,
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    OutOfRangeError,
    PermissionDeniedError,
    PrescientError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
    UnknownError,
)
from .keys import Key
from .results import InferResult, LookupResult, PutResult, Tensor, TriggerResult

__all__ = [
    "PrescientClient",
    "PutEntry",
    "Key",
    "Tensor",
    "LookupResult",
    "PutResult",
    "TriggerResult",
    "InferResult",
    "canonical_json",
    "input_digest",
    "service_config",
    "DEFAULT_DEADLINE_S",
    "__version__",
    "PrescientError",
    "AbortedError",
    "AlreadyExistsError",
    "CancelledError",
    "DataLossError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "OutOfRangeError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "UnknownError",
]
