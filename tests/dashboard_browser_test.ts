/**
 * The dashboard in real headless Chromium (Debian's package, installed by `_chromium.ts` when
 * missing) against a real `dev` process: cluster, topics with offsets, a consumer group's lag per
 * queue in messages and seconds, message search and view, and the DLQ workflow (resend one,
 * redrive all, both in the audit log) — each page checked for the live data; then the login a
 * dashboard off loopback requires. `UPDATE_SCREENSHOT=1` rewrites `docs/dashboard.png`.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { RemotingClient } from "../client/remoting_client.ts";
import { ensureChromium, launchChromium } from "./_chromium.ts";
import { startRole, tempDir } from "./_process.ts";
import { seedBroker } from "./_seed.ts";
import { sendV2 } from "./_wire.ts";

const unavailable = await ensureChromium();
if (unavailable) console.error(`SKIPPING the dashboard browser tests: ${unavailable}`);

const TOKEN = "dashboard-token-0123456789";

async function text(page: Page, selector: string): Promise<string> {
  await page.waitForSelector(selector, { timeout: 15_000 });
  return (await page.textContent(selector))?.trim() ?? "";
}

/** Waits until the element's text (trimmed) equals `expected`, or starts with it when `prefix`. */
async function waitText(page: Page, selector: string, expected: string, prefix = false): Promise<void> {
  await page.waitForFunction(
    ([sel, want, pre]) => {
      // Runs in the page (a function, not a string: the dashboard's CSP forbids eval).
      const doc =
        (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } })
          .document;
      const got = doc.querySelector(sel)?.textContent?.trim() ?? "";
      return pre ? got.startsWith(want) : got === want;
    },
    [selector, expected, prefix] as const,
    { timeout: 15_000 },
  );
}

/** Navigates within the single page and waits for the page's render to finish. */
async function go(page: Page, hash: string, selector: string): Promise<void> {
  await page.evaluate((h) => location.hash = h, hash);
  await page.waitForSelector(selector, { timeout: 15_000 });
}

Deno.test({
  name: "dashboard: Chromium shows live cluster, topics, a group's lag per queue, messages and the DLQ workflow",
  ignore: unavailable !== undefined,
  sanitizeResources: false, // playwright keeps its pipe to Chromium until close, awaited in finally
  sanitizeOps: false,
  async fn() {
    const dir = await tempDir("dashboard");
    const dev = await startRole([
      "dev",
      "--data",
      dir.path,
      "--namesrv-port",
      "0",
      "--broker-port",
      "0",
      "--http-port",
      "0",
      "--set",
      "mappedFileSizeCommitLog=8388608",
    ]);
    const client = new RemotingClient();
    const browser = await launchChromium();
    try {
      const brokerAddr = String(dev.ready.brokerAddr);
      await seedBroker(client, brokerAddr, { count: 8, deadLetters: 3 });
      const base = `http://127.0.0.1:${dev.ready.httpPort}`;
      const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
      page.on("dialog", (dialog) => dialog.accept());
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));

      await page.goto(`${base}/#/cluster`);
      assert.match(await text(page, "[data-table=brokers] tr[data-broker=broker-a]"), new RegExp(brokerAddr));
      assert.equal(await text(page, "[data-stat=putToday] .value"), "11", "8 sent + 3 dead letters");

      await go(page, "#/topics", "[data-table=topics] tr[data-topic=SeedTopic]");
      assert.equal(await text(page, "tr[data-topic=SeedTopic] td.messages"), "8");
      // Live: a message sent now shows on the next render.
      await sendV2(client, brokerAddr, { topic: "SeedTopic", queueId: 0, body: "late", properties: { KEYS: "late" } });
      await page.reload();
      await waitText(page, "tr[data-topic=SeedTopic] td.messages", "9");

      await page.click("tr[data-topic=SeedTopic] a");
      await page.waitForSelector("[data-table=queues] tr[data-queue='broker-a/3']");
      assert.equal(await text(page, "[data-stat=stored] .value"), "9");

      await go(page, "#/groups", "[data-table=groups] tr[data-group=SeedGroup]");
      assert.equal(await text(page, "tr[data-group=SeedGroup] td.lag"), "9");
      await page.click("tr[data-group=SeedGroup] a");
      await page.waitForSelector("[data-table=progress] tr[data-queue='SeedTopic/broker-a/0']");
      assert.equal(await text(page, "[data-stat=lag] .value"), "9");
      assert.equal(await text(page, "tr[data-queue='SeedTopic/broker-a/0'] td.lag"), "3");
      const lagSeconds = Number(await text(page, "tr[data-queue='SeedTopic/broker-a/1'] td.lag-seconds"));
      assert.ok(lagSeconds > 0, `lag in seconds ${lagSeconds}`);
      assert.match(await text(page, "[data-table=clients]"), /seed-client@1/);
      if (Deno.env.get("UPDATE_SCREENSHOT")) {
        await page.screenshot({ path: new URL("../docs/dashboard.png", import.meta.url).pathname, fullPage: true });
      }

      await go(page, "#/messages", "#msg-topic");
      await page.fill("#msg-topic", "SeedTopic");
      await page.fill("#msg-key", "key-3");
      await page.click("#search-key");
      await page.waitForSelector("[data-table=messages] tr[data-msg]");
      assert.match(await text(page, "[data-table=messages]"), /body-3/);
      await page.click("[data-table=messages] tr[data-msg] a");
      await page.waitForSelector("[data-message]");
      assert.match(await text(page, "[data-message] pre.body"), /^body-3$/);

      await go(page, "#/dlq/SeedGroup", "[data-table=dlq] tr[data-msg]");
      assert.equal(await text(page, "[data-stat=dlqTotal] .value"), "3");
      await page.click("[data-table=dlq] tr[data-msg] button[data-resend]");
      await waitText(page, "#toast", "resent", true);
      await page.fill("#redrive-rate", "50");
      await page.click("#redrive");
      await page.waitForSelector("[data-job-state=done]", { timeout: 15_000 });
      assert.match(await text(page, "[data-job-state=done]"), /3 resent · 0 failed/);

      await go(page, "#/audit", "[data-table=audit] tbody tr");
      const audit = await text(page, "[data-table=audit]");
      assert.match(audit, /dlq\.resend/);
      assert.match(audit, /dlq\.redrive/);
      assert.deepEqual(errors, [], "no script errors");
    } finally {
      await browser.close();
      await client.close();
      assert.equal(await dev.stop(), 0);
      await dir.remove();
    }
  },
});

Deno.test({
  name: "dashboard: off loopback Chromium gets the login page, and the token opens the cluster view",
  ignore: unavailable !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await tempDir("dashboard-login");
    const broker = await startRole([
      "broker",
      "--port",
      "0",
      "--store",
      dir.path,
      "--http-host",
      "0.0.0.0",
      "--http-port",
      "0",
      "--set",
      "mappedFileSizeCommitLog=8388608",
    ], { env: { DENOMQ_HTTP_TOKEN: TOKEN } });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${broker.ready.httpPort}/`);
      await page.waitForSelector("#login-token");
      await page.fill("#login-token", "not-the-token");
      await page.click("#login");
      await waitText(page, ".login .error", "Wrong token");
      await page.fill("#login-token", TOKEN);
      await page.click("#login");
      assert.match(await text(page, "[data-table=brokers] tr[data-broker=broker-a]"), /broker-a/);
      assert.equal(await text(page, "#role"), "broker");
    } finally {
      await browser.close();
      assert.equal(await broker.stop(), 0);
      await dir.remove();
    }
  },
});
