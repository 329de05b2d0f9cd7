"""Typed errors: one class per gRPC status code the mesh answers with.

Every call raises a subclass of :class:`PrescientError` (never a bare
``grpc.RpcError``), so callers can ``except prescient_client.NotFoundError``.
Errors found before a call is sent (a malformed key, a NaN in inputs) raise
:class:`InvalidArgumentError` too, as the server would have.
"""

from __future__ import annotations

import grpc

__all__ = [
    "PrescientError",
    "CancelledError",
    "UnknownError",
    "InvalidArgumentError",
    "DeadlineExceededError",
    "NotFoundError",
    "AlreadyExistsError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "FailedPreconditionError",
    "AbortedError",
    "OutOfRangeError",
    "UnimplementedError",
    "InternalError",
    "UnavailableError",
    "DataLossError",
    "UnauthenticatedError",
    "error_from_rpc",
]


class PrescientError(Exception):
    """A call failed. ``code`` is the gRPC status code, ``details`` the server's message."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, details: str, *, code: grpc.StatusCode | None = None) -> None:
        super().__init__(details)
        self.details = details
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code.name}: {self.details}"


class CancelledError(PrescientError):
    code = grpc.StatusCode.CANCELLED


class UnknownError(PrescientError):
    code = grpc.StatusCode.UNKNOWN


class InvalidArgumentError(PrescientError, ValueError):
    """Bad input: a malformed key, an unknown task type, a value JSON cannot hold."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceededError(PrescientError, TimeoutError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFoundError(PrescientError, LookupError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(PrescientError):
    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDeniedError(PrescientError):
    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhaustedError(PrescientError):
    """A full queue, an oversized batch or message: back off or send less."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPreconditionError(PrescientError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class AbortedError(PrescientError):
    code = grpc.StatusCode.ABORTED


class OutOfRangeError(PrescientError):
    code = grpc.StatusCode.OUT_OF_RANGE


class UnimplementedError(PrescientError):
    code = grpc.StatusCode.UNIMPLEMENTED


class InternalError(PrescientError):
    code = grpc.StatusCode.INTERNAL


class UnavailableError(PrescientError, ConnectionError):
    """The mesh (or a service behind it) cannot be reached; raised after the channel's retries."""

    code = grpc.StatusCode.UNAVAILABLE


class DataLossError(PrescientError):
    code = grpc.StatusCode.DATA_LOSS


class UnauthenticatedError(PrescientError):
    code = grpc.StatusCode.UNAUTHENTICATED


_BY_CODE: dict[grpc.StatusCode, type[PrescientError]] = {
    cls.code: cls
    for cls in (
        CancelledError,
        UnknownError,
        InvalidArgumentError,
        DeadlineExceededError,
        NotFoundError,
        AlreadyExistsError,
        PermissionDeniedError,
        ResourceExhaustedError,
        FailedPreconditionError,
        AbortedError,
        OutOfRangeError,
        UnimplementedError,
        InternalError,
        UnavailableError,
        DataLossError,
        UnauthenticatedError,
    )
}


def error_from_rpc(error: grpc.RpcError) -> PrescientError:
    """The typed error for a failed call (a ``grpc.Call`` that carries code and details)."""
    code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = (error.details() if isinstance(error, grpc.Call) else None) or str(error)
    cls = _BY_CODE.get(code, PrescientError)
    return cls(details, code=code)
