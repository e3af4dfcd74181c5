// What the browser tests share: a real server with the demo company, the
// SDK to change things behind the page's back, and Debian's Chromium driven
// by playwright-core (no browser download).
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { createSwitchboard } from "@switchboard/sdk";

export const API_KEY = "sbk_test_0123456789abcdef";
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

/** Where screenshots go: docs/screenshots with UPDATE_SCREENSHOTS=1, else test-results. */
export const screenshotDir = process.env.UPDATE_SCREENSHOTS
  ? join(repoRoot, "docs/screenshots")
  : join(repoRoot, "clients/web/test-results/screenshots");

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/**
 * Starts the server from SWITCHBOARD_BIN (or builds one; it must be built
 * after the page, since it embeds clients/web/dist) on a free port with a
 * fresh database and the demo company.
 */
export async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-web-test-"));
  let bin = process.env.SWITCHBOARD_BIN;
  if (!bin) {
    bin = join(dir, "switchboard");
    execFileSync("go", ["build", "-o", bin, "./server/cmd/switchboard"], { cwd: repoRoot, stdio: "inherit" });
  }
  const addr = `127.0.0.1:${await freePort()}`;
  const child = spawn(bin, ["serve", "--addr", addr, "--data-dir", join(dir, "data"), "--demo", "--bootstrap-api-key", API_KEY], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const employeeToken = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start in 30s:\n${log}`)), 30_000);
    const onData = (chunk) => {
      log += chunk.toString();
      const m = /employee token of Bruce Wayne \(shown once\): (sbe_\S+)/.exec(log);
      if (m && log.includes("Switchboard is running at")) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    child.stderr.on("data", onData);
    child.stdout.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code}:\n${log}`));
    });
  });
  const baseUrl = `http://${addr}`;
  return {
    baseUrl,
    employeeToken,
    api: createSwitchboard({ baseUrl, apiKey: API_KEY }),
    log: () => log,
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

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/**
 * A new page on the server's "/" with its own storage. With a key, the key
 * is stored first, as if the admin had entered it before.
 */
export async function openPage(browser, server, { key = API_KEY, hash = "" } = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: "en-US",
    timezoneId: "UTC",
  });
  if (key) {
    await context.addInitScript((k) => {
      if (!sessionStorage.getItem("test-key-set")) {
        localStorage.setItem("switchboard.apiKey", k);
        sessionStorage.setItem("test-key-set", "1");
      }
    }, key);
  }
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.setDefaultTimeout(10_000);
  await page.goto(`${server.baseUrl}/${hash}`);
  return { page, context, errors };
}

/** Saves what the page shows now; fullPage scrolls to the top and takes the whole page. */
export async function screenshot(page, name, { fullPage = false } = {}) {
  mkdirSync(screenshotDir, { recursive: true });
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage, animations: "disabled", caret: "hide" });
}

/** Names → ids of the demo company's employees, channels, pipeline stages and lead statuses. */
export async function directory(api) {
  const [{ employees }, { channels }, { pipelines, leadStatuses }] = await Promise.all([
    api.directory.listEmployees({ includeDeactivated: true }),
    api.directory.listChannels({}),
    api.directory.listPipelines({}),
  ]);
  const byName = (list, name) => {
    const x = list.find((i) => i.name === name);
    if (!x) throw new Error(`no ${name} in the demo company`);
    return x.id;
  };
  return {
    employee: (name) => byName(employees, name),
    channel: (name) => byName(channels, name),
    pipeline: (name) => byName(pipelines, name),
    stage: (pipeline, name) => byName(pipelines.find((p) => p.name === pipeline).stages, name),
    leadStatus: (name) => byName(leadStatuses, name),
    employees,
    channels,
  };
}
