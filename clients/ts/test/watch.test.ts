// The watch example (examples/watch.ts) against a real server that is
// restarted under it.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createSwitchboard, type Switchboard } from "../src/index.js";
import { startServer, type TestServer } from "./server.js";

// Compiled by tsconfig.examples.json (scripts/build.sh).
const watchJs = resolve(fileURLToPath(import.meta.url), "../../../examples/dist/watch.js");

/** A running watch.js with what it printed so far. */
interface Watcher {
  child: ChildProcess;
  out: () => string;
  err: () => string;
}

function startWatcher(args: string[]): Watcher {
  const env = { ...process.env };
  delete env.SWITCHBOARD_URL;
  delete env.SWITCHBOARD_KEY;
  const child = spawn(process.execPath, [watchJs, ...args], { stdio: ["ignore", "pipe", "pipe"], env });
  let out = "";
  let err = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  return { child, out: () => out, err: () => err };
}

/** Polls cond until it holds, failing after timeoutMs with what the watcher printed. */
async function waitFor(w: Watcher, what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (w.child.exitCode !== null) {
      assert.fail(`watch.js exited with ${w.child.exitCode} before ${what}:\n${w.out()}${w.err()}`);
    }
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting for ${what}:\n--- stdout\n${w.out()}--- stderr\n${w.err()}`);
    }
    await sleep(25);
  }
}

/** Waits for the watcher to exit and returns its exit code; kills it after timeoutMs. */
async function exitOf(w: Watcher, timeoutMs = 10_000): Promise<number | null> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return w.child.exitCode;
  const exited = new Promise<number | null>((ok) => w.child.once("exit", (code) => ok(code)));
  const timeout = sleep(timeoutMs, undefined, { ref: false }).then(() => "timeout" as const);
  const code = await Promise.race([exited, timeout]);
  if (code === "timeout") {
    w.child.kill("SIGKILL");
    assert.fail(`watch.js did not exit within ${timeoutMs}ms:\n${w.out()}${w.err()}`);
  }
  return code;
}

/** Interrupts the watcher like Ctrl-C and returns its exit code. */
function interrupt(w: Watcher): Promise<number | null> {
  w.child.kill("SIGINT");
  return exitOf(w);
}

/** The decision lines: "…  [cursor]". */
function decisions(out: string): { line: string; cursor: string }[] {
  return out
    .split("\n")
    .map((line) => ({ line, m: /\[([0-9.]+)\]$/.exec(line) }))
    .filter((d) => d.m !== null)
    .map((d) => ({ line: d.line, cursor: d.m![1] }));
}

async function routeTo(sb: Switchboard, channelId: string, text: string): Promise<void> {
  const { decision } = await sb.routing.routeIncomingMessage({
    channelId,
    sender: { case: "senderPhone", value: "+79161234567" },
    senderName: "Watch test",
    content: { text },
    gatewayMessageId: `watch-test-${text.replaceAll(" ", "-")}-${Date.now()}`,
  });
  assert.ok(decision?.notifications.some((n) => n.employeeId !== ""), `"${text}" pushes an employee`);
}

test("watch.js prints every decision once across a server restart and resumes from its cursor file", async () => {
  let server: TestServer | undefined;
  let watcher: Watcher | undefined;
  const dir = mkdtempSync(join(tmpdir(), "switchboard-watch-test-"));
  const cursorFile = join(dir, "cursor");
  try {
    server = await startServer();
    const sb = createSwitchboard({ baseUrl: server.baseUrl, apiKey: server.apiKey });
    const { channels } = await sb.directory.listChannels({});
    const whatsapp = channels.find((c) => c.name === "WhatsApp Sales");
    assert.ok(whatsapp);
    const args = ["--url", server.baseUrl, "--key", server.employeeToken, "--cursor-file", cursorFile];

    // Bruce Wayne's token: the first message makes him responsible for the
    // client, the next ones are his client's.
    const w = (watcher = startWatcher(args));
    await waitFor(w, "the stream to connect", () => w.err().includes("caught up at"));
    for (let i = 1; i <= 3; i++) await routeTo(sb, whatsapp.id, `before restart ${i}`);
    await waitFor(w, "3 decisions", () => decisions(w.out()).length >= 3);
    const third = decisions(w.out())[2].cursor;

    await server.halt();
    await waitFor(w, "the watcher to notice", () => /reconnecting in \S+ from cursor/.test(w.err()));
    assert.match(w.err(), new RegExp(`reconnecting in \\S+ from cursor ${third.replaceAll(".", "\\.")}\\n`));
    assert.equal(readFileSync(cursorFile, "utf8").trim(), third, "the cursor file holds the last decision");

    // Same port, same database: the bootstrap key and the token still work.
    await server.start();
    for (let i = 4; i <= 5; i++) await routeTo(sb, whatsapp.id, `after restart ${i}`);
    await waitFor(w, "the decisions made after the restart", () => w.out().includes('"after restart 5"'));
    assert.equal(w.err().match(/^connected to /gm)?.length, 2, `connected twice:\n${w.err()}`);
    assert.equal(await interrupt(w), 0, "Ctrl-C exits cleanly");

    const seen = decisions(w.out());
    assert.equal(seen.length, 5, `5 decisions:\n${w.out()}`);
    assert.equal(new Set(seen.map((d) => d.cursor)).size, 5, `no cursor twice:\n${w.out()}`);
    const texts = ["before restart 1", "before restart 2", "before restart 3", "after restart 4", "after restart 5"];
    seen.forEach((d, i) => assert.ok(d.line.includes(`"${texts[i]}"`), `line ${i + 1} is "${texts[i]}": ${d.line}`));
    assert.match(seen[0].line, /NEW_CLIENT_ASSIGNED +employee \S+ · WhatsApp Sales · /);
    assert.match(seen[4].line, /RESPONSIBLE +employee \S+ · WhatsApp Sales · /);
    assert.equal(readFileSync(cursorFile, "utf8").trim(), seen[4].cursor);

    // A new watcher resumes from the cursor file: only what came meanwhile.
    await routeTo(sb, whatsapp.id, "while away 6");
    const again = (watcher = startWatcher(args));
    await waitFor(again, "the decision made while away", () => decisions(again.out()).length >= 1);
    await waitFor(again, "the replay to end", () => again.err().includes("caught up at"));
    assert.equal(await interrupt(again), 0);
    const later = decisions(again.out());
    assert.equal(later.length, 1, `only the new decision:\n${again.out()}`);
    assert.ok(later[0].line.includes('"while away 6"'), later[0].line);
    assert.ok(!seen.some((d) => d.cursor === later[0].cursor), "a new cursor");

    // A key the server refuses ends the watch: reconnecting would not help.
    const refused = (watcher = startWatcher(["--url", server.baseUrl, "--key", "sbe_not_a_token"]));
    assert.equal(await exitOf(refused), 1, refused.err());
    assert.match(refused.err(), /unauthenticated/);
    assert.doesNotMatch(refused.err(), /reconnecting/);
  } finally {
    if (watcher && watcher.child.exitCode === null) watcher.child.kill("SIGKILL");
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
