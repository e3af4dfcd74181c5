import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";

// The server attaches google.rpc error details (BadRequest, ErrorInfo,
// PreconditionFailure). Their schemas are not part of switchboard.v1, so the
// few fields the API uses are decoded here straight from the wire format.

/** One bad field of a request (google.rpc.BadRequest.FieldViolation). */
export interface FieldViolation {
  /** Path into the request, for example "settings.channels[0].members[2].weight". */
  field: string;
  /** What is wrong, in words. */
  description: string;
}

/** Why an error happened, in machine-readable form (google.rpc.ErrorInfo). */
export interface ErrorInfo {
  /** For example "CLIENT_CLAIMED". */
  reason: string;
  /** The service that raised it. */
  domain: string;
  /** More facts, for example the id of the employee who claimed the client. */
  metadata: Record<string, string>;
}

/** One failed precondition (google.rpc.PreconditionFailure.Violation). */
export interface PreconditionViolation {
  /** Kind of precondition, for example "CHANNEL_CHOICE". */
  type: string;
  /** What it is about, for example a channel id. */
  subject: string;
  /** In words. */
  description: string;
}

/** ErrorInfo reason of RouteOutgoingMessage when another employee claimed the client first. */
export const REASON_CLIENT_CLAIMED = "CLIENT_CLAIMED";

const BAD_REQUEST = "google.rpc.BadRequest";
const ERROR_INFO = "google.rpc.ErrorInfo";
const PRECONDITION_FAILURE = "google.rpc.PreconditionFailure";

/** The raw bytes of every detail of the given type the error carries. */
function detailBytes(err: unknown, typeName: string): Uint8Array[] {
  const ce = ConnectError.from(err);
  const out: Uint8Array[] = [];
  for (const d of ce.details) {
    if ("type" in d) {
      // Incoming details are named without the type URL prefix, but accept
      // one anyway.
      const t = d.type.slice(d.type.lastIndexOf("/") + 1);
      if (t === typeName) {
        out.push(d.value);
      }
    }
  }
  return out;
}

/** Calls onField for each field of one encoded message. */
function readMessage(bytes: Uint8Array, onField: (no: number, wire: WireType, r: BinaryReader) => boolean): void {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [no, wire] = r.tag();
    if (!onField(no, wire, r)) {
      r.skip(wire, no);
    }
  }
}

function decodeFieldViolation(bytes: Uint8Array): FieldViolation {
  const v: FieldViolation = { field: "", description: "" };
  readMessage(bytes, (no, wire, r) => {
    if (wire !== WireType.LengthDelimited) return false;
    if (no === 1) v.field = r.string();
    else if (no === 2) v.description = r.string();
    else return false;
    return true;
  });
  return v;
}

/**
 * The bad fields an INVALID_ARGUMENT error names (from its
 * google.rpc.BadRequest details). Empty for any other error.
 */
export function fieldViolations(err: unknown): FieldViolation[] {
  const out: FieldViolation[] = [];
  for (const bytes of detailBytes(err, BAD_REQUEST)) {
    readMessage(bytes, (no, wire, r) => {
      if (no !== 1 || wire !== WireType.LengthDelimited) return false;
      out.push(decodeFieldViolation(r.bytes()));
      return true;
    });
  }
  return out;
}

/** Every google.rpc.ErrorInfo detail of the error. */
export function errorInfos(err: unknown): ErrorInfo[] {
  return detailBytes(err, ERROR_INFO).map((bytes) => {
    const info: ErrorInfo = { reason: "", domain: "", metadata: {} };
    readMessage(bytes, (no, wire, r) => {
      if (wire !== WireType.LengthDelimited) return false;
      if (no === 1) info.reason = r.string();
      else if (no === 2) info.domain = r.string();
      else if (no === 3) {
        // A map entry: key = 1, value = 2.
        let key = "";
        let value = "";
        readMessage(r.bytes(), (eno, ewire, er) => {
          if (ewire !== WireType.LengthDelimited) return false;
          if (eno === 1) key = er.string();
          else if (eno === 2) value = er.string();
          else return false;
          return true;
        });
        info.metadata[key] = value;
      } else return false;
      return true;
    });
    return info;
  });
}

/** The error's first google.rpc.ErrorInfo detail, if any. */
export function errorInfo(err: unknown): ErrorInfo | undefined {
  return errorInfos(err)[0];
}

/**
 * The failed preconditions a FAILED_PRECONDITION error lists (from its
 * google.rpc.PreconditionFailure details), for example the channels to choose
 * from when RouteOutgoingMessage cannot pick one.
 */
export function preconditionViolations(err: unknown): PreconditionViolation[] {
  const out: PreconditionViolation[] = [];
  for (const bytes of detailBytes(err, PRECONDITION_FAILURE)) {
    readMessage(bytes, (no, wire, r) => {
      if (no !== 1 || wire !== WireType.LengthDelimited) return false;
      const v: PreconditionViolation = { type: "", subject: "", description: "" };
      readMessage(r.bytes(), (vno, vwire, vr) => {
        if (vwire !== WireType.LengthDelimited) return false;
        if (vno === 1) v.type = vr.string();
        else if (vno === 2) v.subject = vr.string();
        else if (vno === 3) v.description = vr.string();
        else return false;
        return true;
      });
      out.push(v);
      return true;
    });
  }
  return out;
}

/** The Connect code of any error (Unknown for errors that are not Connect errors). */
export function codeOf(err: unknown): Code {
  return ConnectError.from(err).code;
}

/**
 * Whether a save failed because the settings changed since they were read
 * (ABORTED without a CLIENT_CLAIMED reason): reload, apply the change again,
 * and save with the new revision.
 */
export function isStaleRevision(err: unknown): boolean {
  return codeOf(err) === Code.Aborted && !isClientClaimed(err);
}

/** Whether RouteOutgoingMessage was refused because another employee claimed the client first. */
export function isClientClaimed(err: unknown): boolean {
  return (
    codeOf(err) === Code.Aborted && errorInfos(err).some((i) => i.reason === REASON_CLIENT_CLAIMED)
  );
}
