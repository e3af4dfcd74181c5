// What the browser tests share: a real server with the demo company, the
// SDK to change things behind the page's back, and Debian's Chromium driven
// by playwright-core (no browser download).
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
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

/** Resolves with what match finds in the child's output so far; rejects when it exits first or after 30 s. */
function waitForOutput(child, what, match, onLog = () => {}) {
  let log = "";
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${what} did not start in 30s:\n${log}`)), 30_000);
    const onData = (chunk) => {
      log += chunk.toString();
      onLog(log);
      const m = match(log);
      if (m) {
        clearTimeout(timer);
        ok(m);
      }
    };
    child.stderr.on("data", onData);
    child.stdout.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`${what} exited with ${code}:\n${log}`));
    });
  });
}

async function stopChild(child) {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((ok) => child.once("exit", ok));
    child.kill("SIGTERM");
    await exited;
  }
}

/** The token the fake amoCRM of startServer({ crm: true }) accepts. */
export const CRM_TOKEN = "fake-amocrm-token-for-the-page";

/** The fake portal's incoming webhook, as startServer({ crm: "bitrix24" }) serves it. */
const BITRIX24_WEBHOOK = "/rest/1/bxfakesecret0001/";

/** Starts "switchboard fake-crm {kind}" at addr (amocrm: accepting token). */
async function startFakeCrm(bin, addr, token, kind = "amocrm") {
  const args = ["fake-crm", kind, "--addr", addr];
  if (kind === "amocrm") args.push("--token", token);
  const fake = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  try {
    await waitForOutput(fake, `the fake ${kind}`, (log) => / at http/.test(log));
  } catch (err) {
    await stopChild(fake);
    throw err;
  }
  return fake;
}

/**
 * Starts the server from SWITCHBOARD_BIN (or builds one; it must be built
 * after the page, since it embeds clients/web/dist) on a free port with a
 * fresh database and the demo company. With crm, it also starts the fake
 * amoCRM ("switchboard fake-crm amocrm", token CRM_TOKEN) on a free port
 * (crm: "bitrix24": a fake Bitrix24 portal, whose token is its webhook URL),
 * and gives the server a secret key and --crm-allow-any-host, so the page
 * can connect it; its address is in crm.baseUrl, and crm.restart(token)
 * starts it again, empty, at the same address accepting another token (a
 * revoked token, as the server sees it).
 */
export async function startServer({ crm = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-web-test-"));
  let bin = process.env.SWITCHBOARD_BIN;
  if (!bin) {
    bin = join(dir, "switchboard");
    execFileSync("go", ["build", "-o", bin, "./server/cmd/switchboard"], { cwd: repoRoot, stdio: "inherit" });
  }
  const args = ["serve", "--addr", `127.0.0.1:${await freePort()}`, "--data-dir", join(dir, "data"), "--demo", "--bootstrap-api-key", API_KEY];
  let fake;
  let crmAddr;
  if (crm) {
    crmAddr = `127.0.0.1:${await freePort()}`;
    fake = await startFakeCrm(bin, crmAddr, CRM_TOKEN, crm === true ? "amocrm" : crm);
    args.push("--secret-key", randomBytes(32).toString("base64"), "--crm-allow-any-host");
  }
  const addr = args[2];
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  let employeeToken;
  try {
    employeeToken = await waitForOutput(
      child,
      "the server",
      (l) => l.includes("Switchboard is running at") && /employee token of Bruce Wayne \(shown once\): (sbe_\S+)/.exec(l)?.[1],
      (l) => (log = l),
    );
  } catch (err) {
    if (fake) await stopChild(fake);
    throw err;
  }
  const baseUrl = `http://${addr}`;
  return {
    baseUrl,
    employeeToken,
    crm: crm
      ? {
          baseUrl: `http://${crmAddr}`,
          token: crm === "bitrix24" ? `http://${crmAddr}${BITRIX24_WEBHOOK}` : CRM_TOKEN,
          async restart(token) {
            await stopChild(fake);
            fake = await startFakeCrm(bin, crmAddr, token);
          },
        }
      : undefined,
    api: createSwitchboard({ baseUrl, apiKey: API_KEY }),
    log: () => log,
    async stop() {
      await stopChild(child);
      if (fake) await stopChild(fake);
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
