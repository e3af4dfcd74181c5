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

export async function startServer(): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-sdk-test-"));
  const bin = binary(dir);
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    bin,
    ["serve", "--addr", addr, "--data-dir", join(dir, "data"), "--demo", "--bootstrap-api-key", API_KEY],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  const ready = new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start in 30s:\n${log}`)), 30_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const m = /employee token of Bruce Wayne \(shown once\): (sbe_\S+)/.exec(log);
      if (m && log.includes("Switchboard is running at")) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    child.stderr?.on("data", onData);
    child.stdout?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code}:\n${log}`));
    });
  });
  const employeeToken = await ready;
  return {
    baseUrl: `http://${addr}`,
    apiKey: API_KEY,
    employeeToken,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((ok) => child.once("exit", ok));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
