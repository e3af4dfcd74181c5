"""Switchboard's errors as one Python exception with the server's details.

The server attaches google.rpc error details to its errors (BadRequest with
field violations, ErrorInfo, PreconditionFailure, ResourceInfo). gRPC carries
them as a google.rpc.Status in the ``grpc-status-details-bin`` trailer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import grpc
from google.rpc import error_details_pb2, status_pb2

# ErrorInfo reason of RouteOutgoingMessage when another employee claimed the
# client first.
REASON_CLIENT_CLAIMED = "CLIENT_CLAIMED"

_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request (google.rpc.BadRequest.FieldViolation)."""

    #: Path into the request, for example "settings.channels[0].members[2].weight".
    field: str
    #: What is wrong, in words.
    description: str


@dataclass(frozen=True)
class ErrorInfo:
    """Why an error happened, in machine-readable form (google.rpc.ErrorInfo)."""

    #: For example "CLIENT_CLAIMED".
    reason: str
    #: The service that raised it.
    domain: str
    #: More facts, for example the id of the employee who claimed the client.
    metadata: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PreconditionViolation:
    """One failed precondition (google.rpc.PreconditionFailure.Violation)."""

    #: Kind of precondition, for example "CHANNEL_CHOICE".
    type: str
    #: What it is about, for example a channel id.
    subject: str
    #: In words.
    description: str


@dataclass(frozen=True)
class ResourceInfo:
    """The thing an error is about (google.rpc.ResourceInfo), e.g. a missing id."""

    resource_type: str
    resource_name: str
    description: str


class SwitchboardError(Exception):
    """An RPC that failed: its gRPC code, message and the server's details.

    ``code`` is a :class:`grpc.StatusCode` (``INVALID_ARGUMENT``,
    ``NOT_FOUND``, ``UNAUTHENTICATED``, …); ``field_violations`` lists the bad
    fields of an ``INVALID_ARGUMENT``. The gRPC error is the ``__cause__``.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        field_violations: Sequence[FieldViolation] = (),
        error_infos: Sequence[ErrorInfo] = (),
        precondition_violations: Sequence[PreconditionViolation] = (),
        resource_infos: Sequence[ResourceInfo] = (),
    ) -> None:
        super().__init__(f"{code.name.lower()}: {message}" if message else code.name.lower())
        self.code = code
        self.message = message
        self.field_violations: Tuple[FieldViolation, ...] = tuple(field_violations)
        self.error_infos: Tuple[ErrorInfo, ...] = tuple(error_infos)
        self.precondition_violations: Tuple[PreconditionViolation, ...] = tuple(precondition_violations)
        self.resource_infos: Tuple[ResourceInfo, ...] = tuple(resource_infos)

    @property
    def error_info(self) -> Optional[ErrorInfo]:
        """The first ErrorInfo detail, if any."""
        return self.error_infos[0] if self.error_infos else None

    @property
    def is_client_claimed(self) -> bool:
        """RouteOutgoingMessage was refused: another employee claimed the client first."""
        return self.code == grpc.StatusCode.ABORTED and any(
            i.reason == REASON_CLIENT_CLAIMED for i in self.error_infos
        )

    @property
    def is_stale_revision(self) -> bool:
        """A settings save lost to a newer one: reload, apply again, save with the new revision."""
        return self.code == grpc.StatusCode.ABORTED and not self.is_client_claimed

    @classmethod
    def from_rpc_error(cls, err: grpc.RpcError) -> "SwitchboardError":
        """Builds the exception from a failed call (a grpc.Call)."""
        code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
        message = (err.details() if hasattr(err, "details") else "") or ""
        trailers = (err.trailing_metadata() if hasattr(err, "trailing_metadata") else None) or ()
        violations: List[FieldViolation] = []
        infos: List[ErrorInfo] = []
        preconditions: List[PreconditionViolation] = []
        resources: List[ResourceInfo] = []
        for key, value in trailers:
            if key != _DETAILS_KEY:
                continue
            try:
                status = status_pb2.Status.FromString(value)
            except Exception:  # a detail we cannot read is no reason to hide the error
                continue
            for any_ in status.details:
                if any_.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    br = error_details_pb2.BadRequest()
                    any_.Unpack(br)
                    violations += [FieldViolation(v.field, v.description) for v in br.field_violations]
                elif any_.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    ei = error_details_pb2.ErrorInfo()
                    any_.Unpack(ei)
                    infos.append(ErrorInfo(ei.reason, ei.domain, dict(ei.metadata)))
                elif any_.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
                    pf = error_details_pb2.PreconditionFailure()
                    any_.Unpack(pf)
                    preconditions += [
                        PreconditionViolation(v.type, v.subject, v.description) for v in pf.violations
                    ]
                elif any_.Is(error_details_pb2.ResourceInfo.DESCRIPTOR):
                    ri = error_details_pb2.ResourceInfo()
                    any_.Unpack(ri)
                    resources.append(ResourceInfo(ri.resource_type, ri.resource_name, ri.description))
        exc = cls(code, message, violations, infos, preconditions, resources)
        exc.__cause__ = err
        return exc
