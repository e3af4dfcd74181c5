import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AccountService } from "./gen/switchboard/v1/account_pb.js";
import { DirectoryService } from "./gen/switchboard/v1/directory_pb.js";
import { IntegrationService } from "./gen/switchboard/v1/integration_pb.js";
import { NotificationService } from "./gen/switchboard/v1/notification_pb.js";
import { RoutingService } from "./gen/switchboard/v1/routing_pb.js";
import { SupervisionService } from "./gen/switchboard/v1/supervision_pb.js";

/** Options of {@link createSwitchboard}. */
export interface SwitchboardOptions {
  /**
   * Where the server listens, for example "https://switchboard.example.com"
   * or, in the settings page, `window.location.origin`. Ignored when
   * `transport` is given.
   */
  baseUrl?: string;
  /**
   * An account API key ("sbk_…", admin scope) or an employee token ("sbe_…"),
   * sent as `Authorization: Bearer <key>` on every call. A function is called
   * before each call, so a key can change without a new client.
   */
  apiKey?: string | (() => string | undefined);
  /**
   * A transport of your own, for example `createGrpcTransport` from
   * `@connectrpc/connect-node`. Add `bearerAuth(key)` to its interceptors:
   * `apiKey` and `interceptors` are not applied to it.
   */
  transport?: Transport;
  /** Send Protobuf binary instead of JSON (JSON is easier to read in devtools). */
  useBinaryFormat?: boolean;
  /** More interceptors, run after the one that adds the key. */
  interceptors?: Interceptor[];
  /** A fetch implementation of your own (defaults to globalThis.fetch). */
  fetch?: typeof globalThis.fetch;
}

/** Typed clients for every service of switchboard.v1, sharing one transport. */
export interface Switchboard {
  /** Settings: read, save (with revision), delete, refresh from the CRM, test message. */
  readonly integration: Client<typeof IntegrationService>;
  /** Channels, employees, pipelines, the channel access grid, default outgoing channels. */
  readonly directory: Client<typeof DirectoryService>;
  /** Routing of incoming and outgoing messages, access checks, visible chats. */
  readonly routing: Client<typeof RoutingService>;
  /** The notification decision stream (Subscribe) and its log. */
  readonly notifications: Client<typeof NotificationService>;
  /** API keys and employee tokens. */
  readonly account: Client<typeof AccountService>;
  /** Unanswered counters, the assignment history, the settings preview. */
  readonly supervision: Client<typeof SupervisionService>;
  /** The transport the clients use. */
  readonly transport: Transport;
}

/**
 * Returns an interceptor that sends `Authorization: Bearer <key>`. With a
 * function, the key is read before every call; when it returns nothing, no
 * header is sent (the server then answers UNAUTHENTICATED).
 */
export function bearerAuth(key: string | (() => string | undefined)): Interceptor {
  return (next) => (req) => {
    const k = typeof key === "function" ? key() : key;
    if (k) {
      req.header.set("Authorization", `Bearer ${k}`);
    }
    return next(req);
  };
}

/**
 * Creates clients for every Switchboard service over Connect (HTTP/1.1 or
 * HTTP/2, JSON by default), the protocol browsers and Node's fetch speak.
 */
export function createSwitchboard(options: SwitchboardOptions): Switchboard {
  let transport = options.transport;
  if (!transport) {
    if (!options.baseUrl) {
      throw new Error("createSwitchboard: baseUrl (or transport) is required");
    }
    const interceptors: Interceptor[] = [];
    if (options.apiKey !== undefined) {
      interceptors.push(bearerAuth(options.apiKey));
    }
    interceptors.push(...(options.interceptors ?? []));
    transport = createConnectTransport({
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
      useBinaryFormat: options.useBinaryFormat ?? false,
      interceptors,
      fetch: options.fetch,
    });
  }
  return {
    integration: createClient(IntegrationService, transport),
    directory: createClient(DirectoryService, transport),
    routing: createClient(RoutingService, transport),
    notifications: createClient(NotificationService, transport),
    account: createClient(AccountService, transport),
    supervision: createClient(SupervisionService, transport),
    transport,
  };
}
