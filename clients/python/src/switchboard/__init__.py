"""Switchboard's Python client: gRPC stubs generated from switchboard.v1
(``switchboard.v1.*_pb2``, ``*_pb2_grpc``) and a small wrapper that sends the
key, raises :class:`SwitchboardError` with the server's details, and watches
the notification stream across reconnects.
"""

from switchboard.client import FATAL_CODES, Service, Switchboard, Watch
from switchboard.errors import (
    REASON_CLIENT_CLAIMED,
    ErrorInfo,
    FieldViolation,
    PreconditionViolation,
    ResourceInfo,
    SwitchboardError,
)

__all__ = [
    "FATAL_CODES",
    "REASON_CLIENT_CLAIMED",
    "ErrorInfo",
    "FieldViolation",
    "PreconditionViolation",
    "ResourceInfo",
    "Service",
    "Switchboard",
    "SwitchboardError",
    "Watch",
]
