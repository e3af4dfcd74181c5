// The SDK against a real server with the demo company.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import {
  bearerAuth,
  clone,
  Code,
  codeOf,
  ConnectError,
  createSwitchboard,
  CredentialKind,
  equals,
  errorInfo,
  fieldViolations,
  IntegrationSettingsSchema,
  isClientClaimed,
  isStaleRevision,
  preconditionViolations,
  REASON_CLIENT_CLAIMED,
  SaveMessagesMode,
  type Switchboard,
} from "../src/index.js";
import { startServer, type TestServer } from "./server.js";

let server: TestServer;
let sb: Switchboard;

before(async () => {
  server = await startServer();
  sb = createSwitchboard({ baseUrl: server.baseUrl, apiKey: server.apiKey });
});

after(async () => {
  await server?.stop();
});

test("an account API key is an admin of its account", async () => {
  const res = await sb.account.getAccount({});
  assert.equal(res.credentialKind, CredentialKind.API_KEY);
  assert.ok(res.account?.id);
});

test("lists the demo employees and channels", async () => {
  const { employees } = await sb.directory.listEmployees({});
  assert.deepEqual(
    employees.map((e) => e.name),
    ["Bruce Wayne", "Scrooge McDuck", "Tony Stark", "Constantine", "Alfred Pennyworth", "Diana Prince"],
  );
  const { channels } = await sb.directory.listChannels({});
  assert.deepEqual(
    channels.map((c) => c.name),
    ["WhatsApp Sales", "Telegram Support"],
  );
});

test("reads the settings with a revision", async () => {
  const { settings } = await sb.integration.getIntegrationSettings({});
  assert.ok(settings);
  assert.ok(settings.revision > 0n);
  assert.equal(settings.channels.length, 2);
  assert.equal(settings.channels[0].channel?.name, "WhatsApp Sales");
  assert.equal(settings.channels[0].members.length, 6);
});

test("saves the settings as a whole and reads them back", async () => {
  const { settings } = await sb.integration.getIntegrationSettings({});
  assert.ok(settings);
  const next = clone(IntegrationSettingsSchema, settings);
  next.account!.saveMessages = SaveMessagesMode.DAILY;
  next.account!.timeZone = "Europe/Moscow";
  next.channels[0].members[2].weight = 3;
  const saved = (await sb.integration.updateIntegrationSettings({ settings: next })).settings;
  assert.ok(saved);
  assert.ok(saved.revision > settings.revision, "the revision moves on");
  const again = (await sb.integration.getIntegrationSettings({})).settings;
  assert.ok(again);
  assert.equal(again.revision, saved.revision);
  assert.equal(again.account?.saveMessages, SaveMessagesMode.DAILY);
  assert.equal(again.account?.timeZone, "Europe/Moscow");
  assert.equal(again.channels[0].members[2].weight, 3);
});

test("a stale revision is ABORTED and changes nothing", async () => {
  const { settings } = await sb.integration.getIntegrationSettings({});
  assert.ok(settings);
  const first = clone(IntegrationSettingsSchema, settings);
  first.account!.notifyManagersAllMessages = !settings.account!.notifyManagersAllMessages;
  await sb.integration.updateIntegrationSettings({ settings: first });

  const stale = clone(IntegrationSettingsSchema, settings);
  stale.account!.saveMessages = SaveMessagesMode.NONE;
  const err = await sb.integration.updateIntegrationSettings({ settings: stale }).then(
    () => assert.fail("a stale save must fail"),
    (e: unknown) => e,
  );
  assert.equal(codeOf(err), Code.Aborted);
  assert.equal(isStaleRevision(err), true);

  const now = (await sb.integration.getIntegrationSettings({})).settings;
  assert.notEqual(now?.account?.saveMessages, SaveMessagesMode.NONE);
  assert.equal(now?.account?.notifyManagersAllMessages, first.account!.notifyManagersAllMessages);
});

test("a weight out of range is INVALID_ARGUMENT naming the field", async () => {
  const { settings } = await sb.integration.getIntegrationSettings({});
  assert.ok(settings);
  const bad = clone(IntegrationSettingsSchema, settings);
  bad.channels[0].members[2].weight = 101;
  const err = await sb.integration.updateIntegrationSettings({ settings: bad }).then(
    () => assert.fail("weight 101 must be refused"),
    (e: unknown) => e,
  );
  assert.equal(codeOf(err), Code.InvalidArgument);
  const fields = fieldViolations(err).map((v) => v.field);
  assert.ok(fields.includes("settings.channels[0].members[2].weight"), `violations: ${fields.join(", ")}`);
  for (const v of fieldViolations(err)) assert.ok(v.description.length > 0);

  const now = (await sb.integration.getIntegrationSettings({})).settings;
  assert.ok(now && equals(IntegrationSettingsSchema, now, settings), "nothing changed");
});

test("validate_only checks without saving", async () => {
  const { settings } = await sb.integration.getIntegrationSettings({});
  assert.ok(settings);
  const next = clone(IntegrationSettingsSchema, settings);
  next.account!.saveMessages = SaveMessagesMode.EACH_MESSAGE;
  await sb.integration.updateIntegrationSettings({ settings: next, validateOnly: true });
  const now = (await sb.integration.getIntegrationSettings({})).settings;
  assert.equal(now?.revision, settings.revision);
});

test("a wrong key is UNAUTHENTICATED", async () => {
  const bad = createSwitchboard({ baseUrl: server.baseUrl, apiKey: "sbk_wrong_0000000000000000" });
  await assert.rejects(bad.directory.listEmployees({}), (e: unknown) => codeOf(e) === Code.Unauthenticated);
  const none = createSwitchboard({ baseUrl: server.baseUrl });
  await assert.rejects(none.directory.listEmployees({}), (e: unknown) => codeOf(e) === Code.Unauthenticated);
});

test("an employee token acts as its employee", async () => {
  const emp = createSwitchboard({ baseUrl: server.baseUrl, apiKey: server.employeeToken });
  const res = await emp.account.getAccount({});
  assert.equal(res.credentialKind, CredentialKind.EMPLOYEE_TOKEN);
  assert.equal(res.employee?.name, "Bruce Wayne");
  await assert.rejects(
    emp.integration.getIntegrationSettings({}),
    (e: unknown) => codeOf(e) === Code.PermissionDenied || codeOf(e) === Code.Unauthenticated,
  );
});

test("the same clients work over binary Connect, gRPC-Web and gRPC", async () => {
  const transports = {
    binary: createSwitchboard({ baseUrl: server.baseUrl, apiKey: server.apiKey, useBinaryFormat: true }),
    grpcWeb: createSwitchboard({
      transport: createGrpcWebTransport({ baseUrl: server.baseUrl, interceptors: [bearerAuth(server.apiKey)] }),
    }),
    grpc: createSwitchboard({
      transport: createGrpcTransport({ baseUrl: server.baseUrl, interceptors: [bearerAuth(server.apiKey)] }),
    }),
  };
  for (const [name, client] of Object.entries(transports)) {
    const { channels } = await client.directory.listChannels({});
    assert.equal(channels.length, 2, name);
    const bad = await client.integration
      .updateIntegrationSettings({ settings: { revision: 1n } })
      .then(() => undefined, (e: unknown) => e);
    assert.equal(codeOf(bad), Code.InvalidArgument, name);
    assert.ok(fieldViolations(bad).length > 0, `${name}: field violations travel`);
  }
});

test("a routed message reaches the responsible employee's notification stream", async () => {
  const { channels } = await sb.directory.listChannels({});
  const whatsapp = channels.find((c) => c.name === "WhatsApp Sales");
  assert.ok(whatsapp);

  // Replay from the start of the log, so the decision is found however fast
  // routing is; the stream is then closed.
  const abort = new AbortController();
  const route = await sb.routing
    .routeIncomingMessage({
      channelId: whatsapp.id,
      sender: { case: "senderPhone", value: "+79161234567" },
      senderName: "SDK test",
      content: { text: "hi from the SDK test" },
      gatewayMessageId: `sdk-test-${Date.now()}`,
    })
    .catch((e: unknown) => {
      const ce = ConnectError.from(e);
      assert.fail(`RoutingService.RouteIncomingMessage failed (${Code[ce.code]}): ${ce.rawMessage}`);
    });
  const decision = route.decision;
  assert.ok(decision?.client?.id, "the decision names the client");
  const pushed = decision.notifications.find((n) => n.employeeId !== "");
  assert.ok(pushed, "a new client on WhatsApp Sales is pushed to someone");

  const timer = setTimeout(() => abort.abort(), 15_000);
  let found = false;
  let caughtUp = false;
  try {
    for await (const ev of sb.notifications.subscribe(
      { employeeId: pushed.employeeId, cursor: "0" },
      { signal: abort.signal },
    )) {
      if (ev.event.case === "caughtUp") caughtUp = true;
      if (ev.event.case === "decision" && ev.event.value.messageId === decision.message?.id) {
        found = true;
        assert.equal(ev.event.value.cursor, pushed.cursor);
        break;
      }
    }
  } catch (e) {
    if (!abort.signal.aborted) {
      const ce = ConnectError.from(e);
      assert.fail(`NotificationService.Subscribe failed (${Code[ce.code]}): ${ce.rawMessage}`);
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  assert.ok(found, `the decision arrived on the stream (caught up: ${caughtUp})`);
});

test("a first-responder client claimed by another employee is ABORTED with CLIENT_CLAIMED", async () => {
  const { channels } = await sb.directory.listChannels({});
  const { employees } = await sb.directory.listEmployees({});
  const telegram = channels.find((c) => c.name === "Telegram Support")!;
  const bruce = employees.find((e) => e.name === "Bruce Wayne")!;
  const tony = employees.find((e) => e.name === "Tony Stark")!;
  const { decision } = await sb.routing.routeIncomingMessage({
    channelId: telegram.id,
    sender: { case: "senderHandle", value: `sdk_claim_${Date.now()}` },
    content: { text: "who answers first?" },
    gatewayMessageId: `sdk-claim-${Date.now()}`,
  });
  const chatId = decision!.chat!.id;
  const first = await sb.routing.routeOutgoingMessage({
    employeeId: bruce.id,
    target: { case: "chatId", value: chatId },
    content: { text: "Bruce here" },
  });
  assert.equal(first.claimed, true);
  const err = await sb.routing
    .routeOutgoingMessage({ employeeId: tony.id, target: { case: "chatId", value: chatId }, content: { text: "Tony here" } })
    .then(() => assert.fail("the second candidate must lose"), (e: unknown) => e);
  assert.equal(codeOf(err), Code.Aborted, `code ${Code[codeOf(err)]}`);
  assert.equal(isClientClaimed(err), true);
  assert.equal(errorInfo(err)?.reason, REASON_CLIENT_CLAIMED);
  assert.equal(isStaleRevision(err), false);
});

test("writing first with several possible channels is FAILED_PRECONDITION listing them", async () => {
  const { channels } = await sb.directory.listChannels({});
  const { employees } = await sb.directory.listEmployees({});
  const whatsapp = channels.find((c) => c.name === "WhatsApp Sales")!;
  const alfred = employees.find((e) => e.name === "Alfred Pennyworth")!; // manager on both channels, no default
  const { decision } = await sb.routing.routeIncomingMessage({
    channelId: whatsapp.id,
    sender: { case: "senderPhone", value: "+79161230001" },
    content: { text: "hello" },
    gatewayMessageId: `sdk-pick-${Date.now()}`,
  });
  const err = await sb.routing
    .routeOutgoingMessage({
      employeeId: alfred.id,
      target: { case: "clientId", value: decision!.client!.id },
      content: { text: "which channel?" },
    })
    .then(() => undefined, (e: unknown) => e);
  assert.ok(err, "the channel cannot be picked");
  assert.equal(codeOf(err), Code.FailedPrecondition);
  const choices = preconditionViolations(err);
  assert.ok(choices.length >= 2, `choices: ${JSON.stringify(choices)}`);
});
