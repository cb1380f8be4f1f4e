// The example page: lists the tenant's model import jobs through the
// gateway with the browser client (client-sdk/web/bedrockgw.js). Paging by
// token: Next follows the page's nextToken, Previous goes back through a
// stack of the tokens used so far. Times are shown in the viewer's time zone.
// The API key lives only in this page's memory (never in the URL, storage or
// the console).
import { BedrockGwClient, BedrockGwError, statusBedrock } from "../../../client-sdk/web/bedrockgw.js";

/** @typedef {import("../../../client-sdk/web/bedrockgw.js").ListQuery} ListQuery */
/** @typedef {import("../../../client-sdk/web/bedrockgw.js").ModelImportJobSummary} ModelImportJobSummary */

/** @param {string} id @returns {HTMLElement} */
function el(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e;
}
/** @param {string} id */
const input = (id) => /** @type {HTMLInputElement} */ (el(id));
/** @param {string} id */
const select = (id) => /** @type {HTMLSelectElement} */ (el(id));
/** @param {string} id */
const button = (id) => /** @type {HTMLButtonElement} */ (el(id));

const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
// dateStyle/timeStyle cannot be combined with timeZoneName: spelled out.
export const TIME_FORMAT = /** @type {const} */ ({
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  timeZoneName: "short",
});
const fmt = new Intl.DateTimeFormat(undefined, TIME_FORMAT);
el("tz").textContent = `your time zone (${timeZone})`;

/** @param {string | undefined} t */
function showTime(t) {
  return t ? fmt.format(new Date(t)) : "—";
}

/** A datetime-local value (the viewer's local time) as RFC 3339 UTC. @param {string} v */
function localToRfc3339(v) {
  if (!v) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new BedrockGwError({ kind: "protocol", httpStatus: 0, code: 3, message: `not a date: ${v}` });
  return d.toISOString();
}

/** The state of one listing: its client, its query and the token stack. */
const state = {
  /** @type {BedrockGwClient | null} */
  client: null,
  /** @type {ListQuery} */
  query: {},
  /** Tokens of the pages visited so far; [0] is the first page (no token). @type {(string | undefined)[]} */
  tokens: [undefined],
  /** @type {string | undefined} */
  next: undefined,
  busy: false,
};

/** @param {ModelImportJobSummary[]} jobs */
function renderRows(jobs) {
  const tbody = /** @type {HTMLTableSectionElement} */ (el("jobs").querySelector("tbody"));
  tbody.replaceChildren();
  for (const j of jobs) {
    const tr = document.createElement("tr");
    tr.dataset.arn = j.jobArn || "";
    const status = statusBedrock(j.status);
    tr.dataset.status = status;
    /** @param {string} text @param {string} [cls] */
    const cell = (text, cls) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
      return td;
    };
    cell(j.jobName || "", "name");
    const st = cell("", "status");
    const badge = document.createElement("span");
    badge.className = `badge ${status}`;
    badge.textContent = status;
    badge.title = j.status || "";
    st.append(badge);
    const created = cell(showTime(j.creationTime), "created");
    if (j.creationTime) created.dataset.time = j.creationTime;
    cell(showTime(j.lastModifiedTime), "modified");
    cell(showTime(j.endTime), "ended");
    cell(j.importedModelName || "—", "model");
    tbody.append(tr);
  }
}

/** @param {unknown} e */
function showError(e) {
  const box = el("error");
  box.replaceChildren();
  box.hidden = false;
  const code = document.createElement("span");
  code.className = "code";
  if (e instanceof BedrockGwError) {
    code.textContent = e.httpStatus ? `${e.codeName} (HTTP ${e.httpStatus})` : e.codeName;
    box.dataset.code = String(e.code);
    box.dataset.kind = e.kind;
    box.append(code, document.createTextNode(`: ${e.message}`));
    for (const v of e.fieldViolations) {
      const p = document.createElement("div");
      p.className = "field";
      p.textContent = `field ${v.field}: ${v.description}`;
      box.append(p);
    }
    if (e.retryAfterS !== null) box.append(document.createTextNode(` Retry in ${e.retryAfterS} s.`));
  } else {
    code.textContent = "Error";
    box.append(code, document.createTextNode(`: ${e instanceof Error ? e.message : String(e)}`));
  }
}

function updatePager() {
  const page = state.tokens.length;
  button("prev").disabled = state.busy || page <= 1;
  button("next").disabled = state.busy || !state.next;
  button("refresh").disabled = state.busy || !state.client;
}

/** Shows the page whose token is on top of the stack. */
async function showPage() {
  if (!state.client) return;
  state.busy = true;
  updatePager();
  el("result").setAttribute("aria-busy", "true");
  try {
    const token = state.tokens[state.tokens.length - 1];
    const r = await state.client.listModelImportJobs({ ...state.query, nextToken: token });
    el("error").hidden = true;
    const jobs = r.data.modelImportJobSummaries || [];
    renderRows(jobs);
    state.next = r.data.nextToken;
    el("pageinfo").textContent = `page ${state.tokens.length} · ${jobs.length} job${jobs.length === 1 ? "" : "s"}` +
      (state.next ? "" : " · last page");
    el("meta").textContent = r.xCache ? `gateway cache: ${r.xCache}` : "";
  } catch (e) {
    state.next = undefined;
    renderRows([]);
    el("pageinfo").textContent = "no page";
    showError(e);
  } finally {
    state.busy = false;
    el("result").setAttribute("aria-busy", "false");
    el("result").dataset.loaded = String(Number(el("result").dataset.loaded || "0") + 1);
    updatePager();
  }
}

el("conn").addEventListener("submit", (ev) => {
  ev.preventDefault();
  try {
    state.client = new BedrockGwClient({
      baseUrl: input("gateway").value.trim(),
      apiKey: input("apikey").value,
      auth: /** @type {"x-api-key" | "bearer"} */ (select("auth").value),
    });
    /** @type {ListQuery} */
    const q = {
      sortOrder: /** @type {"Ascending" | "Descending"} */ (select("order").value),
      maxResults: Number(input("size").value) || undefined,
      enums: /** @type {"proto" | "bedrock"} */ (select("enums").value),
    };
    const status = select("status").value;
    if (status) q.statusEquals = /** @type {"InProgress" | "Completed" | "Failed"} */ (status);
    const name = input("name").value.trim();
    if (name) q.nameContains = name;
    const after = localToRfc3339(input("after").value);
    if (after) q.creationTimeAfter = after;
    const before = localToRfc3339(input("before").value);
    if (before) q.creationTimeBefore = before;
    state.query = q;
  } catch (e) {
    showError(e);
    return;
  }
  state.tokens = [undefined];
  state.next = undefined;
  void showPage();
});

button("next").addEventListener("click", () => {
  if (!state.next) return;
  state.tokens.push(state.next);
  void showPage();
});

button("prev").addEventListener("click", () => {
  if (state.tokens.length <= 1) return;
  state.tokens.pop();
  void showPage();
});

button("refresh").addEventListener("click", () => void showPage());
