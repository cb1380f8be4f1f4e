// Drives deploy/examples/web in headless Chromium (Debian's /usr/bin/chromium
// through playwright-core, pinned) for tests/integration/test_web_client.py,
// and reports what a user would see plus what the browser sent and got.
// Asserts nothing itself: the Python test compares the report with what the
// gateway and the emulator hold.
//
//   node drive_example.mjs < config.json > report.json
//
// config (stdin, so the API key is in no argv): {allowedPage, blockedPage,
// gateway, apiKey, pageSize, filter: {status, name}, revalidateAfterMs,
// screenshot, timezone, chromium}. The report never holds the API key: of the
// request headers only origin, if-none-match and access-control-request-*
// are kept.
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";

const cfg = JSON.parse(readFileSync(0, "utf8"));
const KEEP_REQ = ["origin", "if-none-match", "access-control-request-method", "access-control-request-headers"];
const KEEP_RESP = ["access-control-allow-origin", "access-control-allow-headers", "access-control-allow-methods",
  "etag", "x-cache", "x-request-id", "cache-control", "vary"];

function pick(headers, names) {
  const out = {};
  for (const [k, v] of Object.entries(headers || {})) if (names.includes(k.toLowerCase())) out[k.toLowerCase()] = v;
  return out;
}

// Every request of the page to the gateway, as the network stack saw it
// (CORS preflights, which have ids of their own, and revalidations
// included), labelled with the step. CDP events of one request may come in
// any order: each fills in its part of the entry.
async function recorder(page, gateway) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const byId = new Map();
  const rec = { step: "" };
  const get = (id) => {
    if (!byId.has(id)) byId.set(id, { id, step: rec.step });
    return byId.get(id);
  };
  cdp.on("Network.requestWillBeSent", (ev) => {
    const e = get(ev.requestId);
    e.method = ev.request.method;
    e.url = ev.request.url;
    e.type = ev.type;
  });
  cdp.on("Network.requestWillBeSentExtraInfo", (ev) => {
    const e = get(ev.requestId);
    e.sent = { ...(e.sent || {}), ...pick(ev.headers, KEEP_REQ) };
    // How the key went, never the key.
    for (const [k, v] of Object.entries(ev.headers || {})) {
      if (k.toLowerCase() === "authorization") e.sent.authScheme = String(v).split(" ")[0];
      if (k.toLowerCase() === "x-api-key") e.sent.xApiKey = true;
    }
  });
  cdp.on("Network.responseReceivedExtraInfo", (ev) => {
    const e = get(ev.requestId);
    e.rawStatus = ev.statusCode;
    e.received = pick(ev.headers, KEEP_RESP);
  });
  cdp.on("Network.responseReceived", (ev) => {
    const e = get(ev.requestId);
    e.status = ev.response.status;
    e.fromDiskCache = ev.response.fromDiskCache;
  });
  cdp.on("Network.loadingFailed", (ev) => {
    const e = get(ev.requestId);
    e.failed = ev.errorText;
    e.corsError = ev.corsErrorStatus ? ev.corsErrorStatus.corsError : undefined;
  });
  rec.list = () =>
    [...byId.values()]
      .filter((e) => e.url && e.url.startsWith(gateway))
      .map((e) => ({ ...e, url: e.url.slice(gateway.length) }));
  return rec;
}

async function snapshot(page) {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll("#jobs tbody tr")].map((tr) => ({
      arn: tr.dataset.arn,
      name: tr.querySelector(".name").textContent,
      status: tr.dataset.status,
      badge: tr.querySelector(".badge").textContent,
      badgeClass: tr.querySelector(".badge").className,
      wireStatus: tr.querySelector(".badge").title,
      created: tr.querySelector(".created").textContent,
      createdAt: tr.querySelector(".created").dataset.time || null,
    }));
    const err = document.getElementById("error");
    return {
      rows,
      pageinfo: document.getElementById("pageinfo").textContent,
      prevDisabled: document.getElementById("prev").disabled,
      nextDisabled: document.getElementById("next").disabled,
      error: err.hidden ? null : { text: err.textContent, kind: err.dataset.kind, code: err.dataset.code },
      tz: document.getElementById("tz").textContent,
    };
  });
}

async function loadedAfter(page, action) {
  const before = await page.evaluate(() => Number(document.getElementById("result").dataset.loaded || "0"));
  await action();
  await page.waitForFunction((n) => Number(document.getElementById("result").dataset.loaded || "0") > n, before,
    { timeout: 20000 });
  return snapshot(page);
}

async function connect(page, url) {
  await page.goto(url);
  await page.fill("#gateway", cfg.gateway);
  await page.fill("#apikey", cfg.apiKey);
  await page.fill("#size", String(cfg.pageSize));
}

const browser = await chromium.launch({ executablePath: cfg.chromium || "/usr/bin/chromium", args: ["--no-sandbox"] });
const report = { consoleErrors: [] };
try {
  const context = await browser.newContext({ timezoneId: cfg.timezone, locale: "en-US", viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => report.consoleErrors.push(String(e)));
  const net = await recorder(page, cfg.gateway);

  // 1. First page, then Next until the last page, then Previous back to page 1.
  net.step = "first";
  await connect(page, cfg.allowedPage);
  report.forward = [await loadedAfter(page, () => page.click("#load"))];
  net.step = "next";
  for (let i = 0; i < 100 && !(await page.isDisabled("#next")); i++)
    report.forward.push(await loadedAfter(page, () => page.click("#next")));
  net.step = "previous";
  report.backward = [];
  for (let i = 0; i < 100 && !(await page.isDisabled("#prev")); i++)
    report.backward.push(await loadedAfter(page, () => page.click("#prev")));
  await page.screenshot({ path: cfg.screenshot, fullPage: true });

  // The viewer's time zone: each created time as shown, with its RFC 3339 value.
  report.timeChecks = (await snapshot(page)).rows.map((r) => ({ shown: r.created, at: r.createdAt }));

  // 2. The last page again once the browser's copy is stale: revalidated.
  // (The last page, because its bytes stay the same when the gateway fetches
  // it anew; a page with a nextToken gets a fresh token, which carries its
  // expiry time, so new bytes and a new ETag.)
  net.step = "to-last";
  report.toLast = [];
  for (let i = 0; i < 100 && !(await page.isDisabled("#next")); i++)
    report.toLast.push(await loadedAfter(page, () => page.click("#next")));
  await page.waitForTimeout(cfg.revalidateAfterMs);
  net.step = "refresh";
  report.refresh = await loadedAfter(page, () => page.click("#refresh"));

  // 3. A filter.
  net.step = "filter";
  await page.selectOption("#status", cfg.filter.status);
  await page.fill("#name", cfg.filter.name);
  // ... with the key as a bearer token and Bedrock's enum spellings
  await page.selectOption("#auth", "bearer");
  await page.selectOption("#enums", "bedrock");
  report.filtered = [await loadedAfter(page, () => page.click("#load"))];
  for (let i = 0; i < 100 && !(await page.isDisabled("#next")); i++)
    report.filtered.push(await loadedAfter(page, () => page.click("#next")));
  report.network = net.list();

  // 4. Errors as the page shows them (a time range the gateway refuses) ...
  net.step = "bad-range";
  await page.fill("#name", "");
  await page.fill("#after", "2025-01-02T00:00:00");
  await page.fill("#before", "2025-01-01T00:00:00");
  report.badRange = await loadedAfter(page, () => page.click("#load"));
  await page.fill("#after", "");
  await page.fill("#before", "");
  // ... and as the client hands them to code: a bad parameter, and a
  // rate-limited tenant's second call (its key: cfg.limitedKey).
  report.clientErrors = await page.evaluate(async ({ gateway, apiKey, limitedKey }) => {
    const { BedrockGwClient, BedrockGwError } = await import("/client-sdk/web/bedrockgw.js");
    const out = {};
    const grab = async (name, fn) => {
      try {
        await fn();
        out[name] = { ok: true };
      } catch (e) {
        out[name] = e instanceof BedrockGwError
          ? { typed: true, kind: e.kind, httpStatus: e.httpStatus, code: e.code, codeName: e.codeName,
              message: e.message, fieldViolations: e.fieldViolations, retryAfterS: e.retryAfterS,
              retryable: e.retryable, requestId: e.requestId }
          : { typed: false, name: e.name, message: String(e.message) };
      }
    };
    const a = new BedrockGwClient({ baseUrl: gateway, apiKey });
    await grab("maxResults", () => a.listModelImportJobs({ maxResults: 5000 }));
    await grab("unknownKey", () => a.listModelImportJobs(/** @type {any} */ ({ pageSize: 3 })));
    const limited = new BedrockGwClient({ baseUrl: gateway, apiKey: limitedKey, auth: "bearer", cache: "no-store" });
    await grab("limitedFirst", () => limited.listModelImportJobs({ maxResults: 1 }));
    await grab("limitedSecond", () => limited.listModelImportJobs({ maxResults: 1 }));
    out.clientKeys = Object.keys(a);
    return out;
  }, { gateway: cfg.gateway, apiKey: cfg.apiKey, limitedKey: cfg.limitedKey });

  // 5. The same page from an origin the gateway does not allow.
  const blocked = await context.newPage();
  const net2 = await recorder(blocked, cfg.gateway);
  net2.step = "blocked";
  await connect(blocked, cfg.blockedPage);
  report.blocked = await loadedAfter(blocked, () => blocked.click("#load"));
  await blocked.waitForTimeout(300);
  report.blockedNetwork = net2.list();
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
