// watch: prints an employee's push decisions as they arrive, the way the
// mobile app would show them; the SDK counterpart of
// `switchboard notifications watch`.
//
//   node examples/dist/watch.js --url http://127.0.0.1:8080 --key sbe_… --cursor-file watch.cursor
//
// It survives server restarts and replica failures: when the stream is lost
// it reconnects (to the next --url, with backoff) and resumes after the last
// cursor it received, so every decision is printed once. With --cursor-file
// the cursor is kept on disk, so a restarted watcher resumes too.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { createConnectTransport } from "@connectrpc/connect-node";
import {
  bearerAuth,
  Code,
  codeOf,
  ConnectError,
  createSwitchboard,
  NotificationReason,
  timestampDate,
  type NotificationDecision,
  type SubscribeResponse,
  type Switchboard,
} from "@switchboard/sdk";

interface WatchOptions {
  /** Server URLs, tried in turn. */
  urls: string[];
  /** Employee token (its own pushes) or account API key. */
  key: string;
  /** Employee to watch (with an account API key). */
  employee?: string;
  /** Watch the general chat (with an account API key). */
  generalChat?: boolean;
  /** File that keeps the last cursor; read at start, replaced atomically. */
  cursorFile?: string;
  /** Resume after this cursor when there is no cursor file yet. */
  cursor?: string;
  /** Longest wait between reconnection attempts, in milliseconds. */
  maxBackoffMs?: number;
  /** Stops watching; watch then resolves. */
  signal?: AbortSignal;
  /** Where decisions go, one line each. */
  out?: (line: string) => void;
  /** Where status lines go. */
  log?: (line: string) => void;
}

/** Errors a reconnection will not fix. */
const FATAL = new Set([Code.Unauthenticated, Code.PermissionDenied, Code.InvalidArgument, Code.NotFound]);

const FIRST_BACKOFF_MS = 200;

/**
 * Streams decisions until the signal aborts (resolves) or the server refuses
 * the subscription for good (rejects with the ConnectError). Lost streams are
 * resumed from the last cursor received.
 */
async function watch(o: WatchOptions): Promise<void> {
  if (o.urls.length === 0) throw new Error("no server URL");
  const out = o.out ?? ((line) => process.stdout.write(line + "\n"));
  const log = o.log ?? ((line) => process.stderr.write(line + "\n"));
  const maxBackoffMs = o.maxBackoffMs ?? 10_000;

  let cursor = o.cursor ?? "";
  let written: string | undefined; // what the cursor file holds
  if (o.cursorFile) {
    try {
      written = readFileSync(o.cursorFile, "utf8").trim();
      cursor = written;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  const save = (c: string) => {
    cursor = c;
    if (!o.cursorFile || c === written) return;
    // Write aside, then rename over: a crash leaves the old cursor or the new
    // one, never half of one.
    const tmp = o.cursorFile + ".tmp";
    writeFileSync(tmp, c + "\n", { mode: 0o600 });
    renameSync(tmp, o.cursorFile);
    written = c;
  };

  // One client per URL; with HTTP/2 each keeps its connection, and pings
  // notice a peer that vanished without closing it.
  const clients = new Map<string, Switchboard>();
  const clientFor = (url: string) => {
    let sb = clients.get(url);
    if (!sb) {
      sb = createSwitchboard({
        transport: createConnectTransport({
          baseUrl: url.replace(/\/+$/, ""),
          httpVersion: "2",
          pingIntervalMs: 30_000,
          interceptors: [bearerAuth(o.key)],
        }),
      });
      clients.set(url, sb);
    }
    return sb;
  };

  const handle = (url: string, { event }: SubscribeResponse) => {
    switch (event.case) {
      case "decision":
        out(formatDecision(event.value));
        save(event.value.cursor);
        break;
      case "caughtUp":
        log(
          `connected to ${url}; caught up at ${event.value.cursor}` +
            (event.value.historyTruncated ? " (older decisions were pruned)" : ""),
        );
        save(event.value.cursor);
        break;
      case "heartbeat":
        save(event.value.cursor);
        break;
    }
  };

  let backoffMs = FIRST_BACKOFF_MS;
  for (let attempt = 0; !o.signal?.aborted; attempt++) {
    const url = o.urls[attempt % o.urls.length];
    const request = { employeeId: o.employee ?? "", generalChat: o.generalChat ?? false, cursor };
    const stream = clientFor(url).notifications.subscribe(request, { signal: o.signal })[Symbol.asyncIterator]();
    let err: unknown;
    try {
      for (;;) {
        let next: IteratorResult<SubscribeResponse>;
        try {
          next = await stream.next();
        } catch (e) {
          err = e;
          break;
        }
        if (next.done) break;
        backoffMs = FIRST_BACKOFF_MS;
        handle(url, next.value); // a cursor file that cannot be written ends the watch
      }
    } finally {
      await stream.return?.().catch(() => {});
    }
    if (o.signal?.aborted) return;
    if (err !== undefined && FATAL.has(codeOf(err))) throw err;
    const why = err === undefined ? "stream ended" : ConnectError.from(err).message;
    log(`${url}: ${why}; reconnecting in ${duration(backoffMs)} from ${cursor === "" ? "now" : `cursor ${cursor}`}`);
    try {
      await sleep(backoffMs, undefined, { signal: o.signal });
    } catch {
      return; // aborted while waiting
    }
    backoffMs = Math.min(2 * backoffMs, maxBackoffMs);
  }
}

/** Renders a decision as one line, as a push would read. */
function formatDecision(d: NotificationDecision): string {
  const at = d.createTime ? timestampDate(d.createTime) : new Date(0);
  const time = at.toTimeString().slice(0, 8); // local HH:MM:SS
  const reason = NotificationReason[d.reason] ?? String(d.reason);
  const who = d.generalChat ? "general chat" : `employee ${d.employeeId}`;
  let line = `${time}  ${reason.padEnd(20)} ${who} · ${d.channelName} · ${d.clientName}`;
  if (d.preview !== "") line += ` · ${JSON.stringify(d.preview)}`;
  return `${line}  — ${d.explanation}  [${d.cursor}]`;
}

/** 200 → "200ms", 1600 → "1.6s". */
function duration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${ms / 1000}s`;
}

const USAGE = `usage: node watch.js [--url URL[,URL…]] --key KEY [--employee ID | --general-chat] [--cursor-file FILE] [--cursor C]

  --url URL[,URL…]   server URL; several, comma-separated, are tried in turn
                     (env SWITCHBOARD_URL, default http://127.0.0.1:8080)
  --key KEY          employee token (its own pushes) or account API key (env SWITCHBOARD_KEY)
  --employee ID      employee id to watch (with an account API key)
  --general-chat     watch the general chat (with an account API key)
  --cursor-file FILE file that keeps the last cursor, so a restart resumes where it stopped
  --cursor C         resume after this cursor ("0": from the oldest kept decision;
                     default: new decisions only)
`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: "string", default: process.env.SWITCHBOARD_URL ?? "http://127.0.0.1:8080" },
        key: { type: "string", default: process.env.SWITCHBOARD_KEY ?? "" },
        employee: { type: "string", default: "" },
        "general-chat": { type: "boolean", default: false },
        "cursor-file": { type: "string", default: "" },
        cursor: { type: "string", default: "" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    process.stderr.write(`watch: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stderr.write(USAGE);
    return 0;
  }
  const urls = values.url.split(",").map((u) => u.trim()).filter((u) => u !== "");
  const problem =
    values.key === "" ? "--key (or SWITCHBOARD_KEY) is required"
    : urls.length === 0 ? "--url (or SWITCHBOARD_URL) names no server"
    : values.employee !== "" && values["general-chat"] ? "--employee and --general-chat exclude each other"
    : undefined;
  if (problem) {
    process.stderr.write(`watch: ${problem}\n\n${USAGE}`);
    return 2;
  }

  // Ctrl-C (or SIGTERM) stops cleanly; a second one does not wait.
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await watch({
      urls,
      key: values.key,
      employee: values.employee,
      generalChat: values["general-chat"],
      cursorFile: values["cursor-file"],
      cursor: values.cursor,
      signal: stop.signal,
    });
    return 0;
  } catch (e) {
    process.stderr.write(`watch: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

process.exitCode = await main();
