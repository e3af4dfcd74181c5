// Starts a real Switchboard server with demo data for the tests: the binary
// from SWITCHBOARD_BIN, or one built from the repository with `go build`.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const API_KEY = "sbk_test_0123456789abcdef";

export interface TestServer {
  baseUrl: string;
  apiKey: string;
  /** Bruce Wayne's employee token, printed once by --demo. */
  employeeToken: string;
  /** Stops the server (SIGTERM) and keeps its database, for start(). */
  halt(): Promise<void>;
  /** Starts a halted server again on the same port and database. */
  start(): Promise<void>;
  /** Stops the server and removes its database. */
  stop(): Promise<void>;
}

const repoRoot = resolve(fileURLToPath(import.meta.url), "../../../../..");

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => (typeof addr === "object" && addr ? ok(addr.port) : fail(new Error("no port"))));
    });
  });
}

let built: string | undefined;

function binary(dir: string): string {
  if (process.env.SWITCHBOARD_BIN) return process.env.SWITCHBOARD_BIN;
  if (!built) {
    built = join(dir, "switchboard");
    execFileSync("go", ["build", "-o", built, "./server/cmd/switchboard"], { cwd: repoRoot, stdio: "inherit" });
  }
  return built;
}

/** Runs `serve --demo` and resolves once it printed its greeting. */
async function launch(bin: string, addr: string, dataDir: string): Promise<{ child: ChildProcess; log: string }> {
  const child: ChildProcess = spawn(
    bin,
    ["serve", "--addr", addr, "--data-dir", dataDir, "--demo", "--bootstrap-api-key", API_KEY],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`server did not start in 30s:\n${log}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      // The greeting ends with "Try it:"; the demo's employee token, printed
      // once when the demo is created, comes before it.
      if (log.includes("Switchboard is running at") && log.includes("\nTry it:")) {
        clearTimeout(timer);
        ok();
      }
    };
    child.stderr?.on("data", onData);
    child.stdout?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code}:\n${log}`));
    });
  });
  return { child, log };
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((ok) => child.once("exit", ok));
    child.kill("SIGTERM");
    await exited;
  }
}

export async function startServer(): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-sdk-test-"));
  const bin = binary(dir);
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const dataDir = join(dir, "data");
  const first = await launch(bin, addr, dataDir);
  let child = first.child;
  const m = /employee token of Bruce Wayne \(shown once\): (sbe_\S+)/.exec(first.log);
  if (!m) {
    await terminate(child);
    throw new Error(`the server printed no employee token:\n${first.log}`);
  }
  return {
    baseUrl: `http://${addr}`,
    apiKey: API_KEY,
    employeeToken: m[1],
    halt: () => terminate(child),
    async start() {
      await terminate(child);
      ({ child } = await launch(bin, addr, dataDir));
    },
    async stop() {
      await terminate(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
