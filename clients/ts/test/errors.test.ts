// The error-detail decoders, on hand-made details (no server needed).
import assert from "node:assert/strict";
import { test } from "node:test";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import {
  Code,
  ConnectError,
  errorInfo,
  fieldViolations,
  isClientClaimed,
  isStaleRevision,
  preconditionViolations,
} from "../src/index.js";

function withDetail(code: Code, type: string, value: Uint8Array): ConnectError {
  const err = new ConnectError("test", code);
  err.details.push({ type, value });
  return err;
}

test("fieldViolations decodes google.rpc.BadRequest", () => {
  const w = new BinaryWriter();
  for (const [field, description] of [
    ["settings.channels[0].members[2].weight", "must be between 1 and 100 (0 means 1), got 101"],
    ["settings.account.time_zone", "\"Mars/Base\" is not an IANA time zone name"],
  ]) {
    w.tag(1, 2).fork().tag(1, 2).string(field).tag(2, 2).string(description).join();
  }
  const err = withDetail(Code.InvalidArgument, "google.rpc.BadRequest", w.finish());
  assert.deepEqual(fieldViolations(err), [
    { field: "settings.channels[0].members[2].weight", description: "must be between 1 and 100 (0 means 1), got 101" },
    { field: "settings.account.time_zone", description: "\"Mars/Base\" is not an IANA time zone name" },
  ]);
  assert.deepEqual(fieldViolations(new Error("plain")), []);
});

test("errorInfo decodes google.rpc.ErrorInfo with metadata", () => {
  const w = new BinaryWriter();
  w.tag(1, 2).string("CLIENT_CLAIMED").tag(2, 2).string("switchboard.v1");
  w.tag(3, 2).fork().tag(1, 2).string("employee_id").tag(2, 2).string("3").join();
  w.tag(3, 2).fork().tag(1, 2).string("client_id").tag(2, 2).string("17").join();
  const err = withDetail(Code.Aborted, "type.googleapis.com/google.rpc.ErrorInfo", w.finish());
  assert.deepEqual(errorInfo(err), {
    reason: "CLIENT_CLAIMED",
    domain: "switchboard.v1",
    metadata: { employee_id: "3", client_id: "17" },
  });
  assert.equal(isClientClaimed(err), true);
  assert.equal(isStaleRevision(err), false);
  assert.equal(isStaleRevision(new ConnectError("stale", Code.Aborted)), true);
});

test("preconditionViolations decodes google.rpc.PreconditionFailure", () => {
  const w = new BinaryWriter();
  w.tag(1, 2).fork().tag(1, 2).string("CHANNEL_CHOICE").tag(2, 2).string("1").tag(3, 2).string("WhatsApp Sales").join();
  const err = withDetail(Code.FailedPrecondition, "google.rpc.PreconditionFailure", w.finish());
  assert.deepEqual(preconditionViolations(err), [
    { type: "CHANNEL_CHOICE", subject: "1", description: "WhatsApp Sales" },
  ]);
});
