/**
 * The Switchboard SDK: typed clients for every switchboard.v1 service over
 * Connect, the generated message types, and helpers for the error details
 * the server sends.
 *
 * @example
 *   const sb = createSwitchboard({ baseUrl: "http://127.0.0.1:8080", apiKey: "sbk_…" });
 *   const { settings } = await sb.integration.getIntegrationSettings({});
 */
export { bearerAuth, createSwitchboard } from "./client.js";
export type { Switchboard, SwitchboardOptions } from "./client.js";
export {
  codeOf,
  errorInfo,
  errorInfos,
  fieldViolations,
  isClientClaimed,
  isStaleRevision,
  preconditionViolations,
  REASON_CLIENT_CLAIMED,
} from "./errors.js";
export type { ErrorInfo, FieldViolation, PreconditionViolation } from "./errors.js";

// Generated types, enums, schemas and service descriptors.
export * from "./gen/switchboard/v1/account_pb.js";
export * from "./gen/switchboard/v1/common_pb.js";
export * from "./gen/switchboard/v1/directory_pb.js";
export * from "./gen/switchboard/v1/integration_pb.js";
export * from "./gen/switchboard/v1/notification_pb.js";
export * from "./gen/switchboard/v1/routing_pb.js";
export * from "./gen/switchboard/v1/supervision_pb.js";
export * from "./gen/switchboard/v1/unanswered_pb.js";

// What a caller needs from the runtime libraries, so one import does.
export { Code, ConnectError, createClient } from "@connectrpc/connect";
export type { CallOptions, Interceptor, Transport } from "@connectrpc/connect";
export type { Client as ServiceClient } from "@connectrpc/connect";
export { clone, create, equals, fromJson, fromJsonString, toJson, toJsonString } from "@bufbuild/protobuf";
export type { MessageInitShape } from "@bufbuild/protobuf";
export { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
