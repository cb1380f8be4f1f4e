// bedrockgw.js - a small browser client for the gateway's REST API
// (GET /v1/model-import-jobs). Plain ES module, no dependencies: load it
// with <script type="module"> or import it from a bundler.
//
// Types: JSDoc against openapi.d.ts, which openapi-typescript generates from
// docs/openapi.json (the ctest web_client_types regenerates it, fails when
// the committed copy is stale, and runs tsc --checkJs over this file).
//
// Credentials: the API key goes in the x-api-key header (or
// "authorization: Bearer <key>"), never into the URL, and is never part of
// an error message. Browsers need the gateway's http.cors_allowed_origins to
// list the page's origin; the key header makes every call a CORS preflighted
// request.

/** @typedef {import("./openapi").components["schemas"]["ListModelImportJobsResponse"]} ListModelImportJobsResponse */
/** @typedef {import("./openapi").components["schemas"]["ModelImportJobSummary"]} ModelImportJobSummary */
/** @typedef {import("./openapi").components["schemas"]["Status"]} Status */
/** @typedef {import("./openapi").components["schemas"]["ModelImportJobStatus"]} ModelImportJobStatus */
/** @typedef {import("./openapi").components["schemas"]["ModelImportJobStatusBedrock"]} ModelImportJobStatusBedrock */
/**
 * Every filter of the operation, typed from the document: creationTimeAfter,
 * creationTimeBefore (RFC 3339 strings), statusEquals, nameContains,
 * maxResults, nextToken, sortBy, sortOrder, and the enums rendering option.
 * @typedef {NonNullable<import("./openapi").operations["ListModelImportJobs"]["parameters"]["query"]>} ListQuery
 */

/**
 * @typedef {object} ClientOptions
 * @property {string} baseUrl The gateway's REST listener, e.g. "https://bedrockgw.internal:8443".
 * @property {string} apiKey The tenant's API key.
 * @property {"x-api-key" | "bearer"} [auth] How the key is sent (default "x-api-key").
 * @property {"proto" | "bedrock"} [enums] Default rendering of enum values (default: the gateway's, proto).
 * @property {RequestCache} [cache] fetch() cache mode (default "default": the browser's HTTP cache
 *   keeps answers for their max-age, then revalidates them with If-None-Match).
 * @property {typeof fetch} [fetch] A fetch implementation (default: globalThis.fetch).
 */

/**
 * @typedef {object} ListResult
 * @property {ListModelImportJobsResponse} data The page (proto3 JSON).
 * @property {number} status The HTTP status the browser reported (200; a revalidated 304 is 200 here).
 * @property {string | null} etag The answer's ETag (null when the gateway's cache is off).
 * @property {string | null} xCache The gateway's X-Cache: hit, miss, stale or bypass.
 * @property {string | null} requestId The gateway's request id.
 */

/** google.rpc.Code names by number. */
export const GRPC_CODES = Object.freeze({
  0: "OK", 1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND",
  6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION",
  10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE",
  15: "DATA_LOSS", 16: "UNAUTHENTICATED",
});

/**
 * An error answer of the gateway (a google.rpc.Status), or a call that got
 * no readable answer at all (network failure, or the browser blocked the
 * answer by CORS: httpStatus 0, code 14 UNAVAILABLE, kind "network").
 */
export class BedrockGwError extends Error {
  /**
   * @param {object} f
   * @param {"status" | "network" | "protocol"} f.kind
   * @param {number} f.httpStatus
   * @param {number} f.code
   * @param {string} f.message
   * @param {Status["details"]} [f.details]
   * @param {number | null} [f.retryAfterS]
   * @param {string | null} [f.requestId]
   */
  constructor(f) {
    super(f.message);
    this.name = "BedrockGwError";
    /** @type {"status" | "network" | "protocol"} */
    this.kind = f.kind;
    /** @type {number} HTTP status (0 when there was no readable answer) */
    this.httpStatus = f.httpStatus;
    /** @type {number} google.rpc.Code */
    this.code = f.code;
    /** @type {string} the code's name, e.g. "INVALID_ARGUMENT" */
    this.codeName = GRPC_CODES[/** @type {keyof typeof GRPC_CODES} */ (f.code)] || "UNKNOWN";
    /** @type {Status["details"]} */
    this.details = f.details || [];
    /** @type {number | null} seconds to wait, from Retry-After */
    this.retryAfterS = f.retryAfterS ?? null;
    /** @type {string | null} */
    this.requestId = f.requestId ?? null;
  }

  /** @returns {{field: string, description: string}[]} the BadRequest field violations */
  get fieldViolations() {
    /** @type {{field: string, description: string}[]} */
    const out = [];
    for (const d of this.details) {
      if (d["@type"] === "type.googleapis.com/google.rpc.BadRequest") out.push(...d.fieldViolations);
    }
    return out;
  }

  /** @returns {boolean} whether the same call may succeed later */
  get retryable() {
    return this.code === 8 || this.code === 14 || this.code === 4;
  }
}

const QUERY_KEYS = /** @type {const} */ ([
  "creationTimeAfter", "creationTimeBefore", "statusEquals", "nameContains", "maxResults", "nextToken",
  "sortBy", "sortOrder", "enums",
]);

/**
 * The query string of a ListQuery: absent, null and "" values are left out
 * (the gateway refuses empty values); unknown keys are refused here, naming
 * the key, before anything is sent.
 * @param {ListQuery} query
 * @returns {string}
 */
export function listQueryString(query) {
  const parts = [];
  for (const [k, v] of Object.entries(query)) {
    if (!(/** @type {readonly string[]} */ (QUERY_KEYS).includes(k)))
      throw new TypeError(`unknown query parameter "${k}"; known: ${QUERY_KEYS.join(", ")}`);
    if (v === undefined || v === null || v === "") continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.join("&");
}

/** @param {string | null} v */
function parseRetryAfter(v) {
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, Math.ceil((t - Date.now()) / 1000));
}

/** @param {unknown} body @returns {body is Status} */
function isStatus(body) {
  if (!body || typeof body !== "object") return false;
  const b = /** @type {Record<string, unknown>} */ (body);
  return typeof b.code === "number" && typeof b.message === "string";
}

export class BedrockGwClient {
  /** @param {ClientOptions} opts */
  constructor(opts) {
    if (!opts || typeof opts.baseUrl !== "string" || !/^https?:\/\//.test(opts.baseUrl))
      throw new TypeError("baseUrl must be an http(s) URL of the gateway's REST listener");
    if (typeof opts.apiKey !== "string" || opts.apiKey === "") throw new TypeError("apiKey must not be empty");
    if (opts.auth !== undefined && opts.auth !== "x-api-key" && opts.auth !== "bearer")
      throw new TypeError('auth must be "x-api-key" or "bearer"');
    if (opts.enums !== undefined && opts.enums !== "proto" && opts.enums !== "bedrock")
      throw new TypeError('enums must be "proto" or "bedrock"');
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    /** @type {"x-api-key" | "bearer"} */
    this.auth = opts.auth || "x-api-key";
    /** @type {"proto" | "bedrock" | undefined} */
    this.enums = opts.enums;
    /** @type {RequestCache} */
    this.cache = opts.cache || "default";
    /** @type {typeof fetch} */
    this.fetch = opts.fetch || globalThis.fetch.bind(globalThis);
    // Kept off the enumerable properties so that logging the client does not print it.
    Object.defineProperty(this, "apiKey", { value: opts.apiKey, enumerable: false });
  }

  /** @returns {Record<string, string>} */
  headers() {
    const key = /** @type {string} */ (/** @type {any} */ (this).apiKey);
    return this.auth === "bearer" ? { authorization: `Bearer ${key}` } : { "x-api-key": key };
  }

  /**
   * One page. Throws BedrockGwError for any answer other than 200 (and for
   * no answer at all).
   * @param {ListQuery} [query]
   * @param {{signal?: AbortSignal}} [opts]
   * @returns {Promise<ListResult>}
   */
  async listModelImportJobs(query = {}, opts = {}) {
    const q = { ...query };
    if (q.enums === undefined && this.enums) q.enums = this.enums;
    const qs = listQueryString(q);
    const url = `${this.baseUrl}/v1/model-import-jobs${qs ? "?" + qs : ""}`;
    /** @type {Response} */
    let r;
    try {
      r = await this.fetch(url, {
        method: "GET", headers: this.headers(), cache: this.cache, credentials: "omit", mode: "cors",
        signal: opts.signal,
      });
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") throw e;
      throw new BedrockGwError({
        kind: "network", httpStatus: 0, code: 14,
        message: "no answer from the gateway (network error, or the browser blocked it: is this page's origin " +
          "in the gateway's http.cors_allowed_origins?)",
      });
    }
    const requestId = r.headers.get("x-request-id");
    const text = await r.text();
    /** @type {unknown} */
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (r.status === 200 && body && typeof body === "object" && Array.isArray(/** @type {any} */ (body).modelImportJobSummaries)) {
      return {
        data: /** @type {ListModelImportJobsResponse} */ (body), status: r.status, etag: r.headers.get("etag"),
        xCache: r.headers.get("x-cache"), requestId,
      };
    }
    const retryAfterS = parseRetryAfter(r.headers.get("retry-after"));
    if (isStatus(body)) {
      throw new BedrockGwError({
        kind: "status", httpStatus: r.status, code: body.code, message: body.message, details: body.details,
        retryAfterS, requestId,
      });
    }
    throw new BedrockGwError({
      kind: "protocol", httpStatus: r.status, code: 13,
      message: `unexpected answer from the gateway: HTTP ${r.status}`, retryAfterS, requestId,
    });
  }

  /**
   * Every page of a query, following nextToken until it is absent (a page
   * may be short or even empty and still have one).
   * @param {ListQuery} [query]
   * @param {{signal?: AbortSignal, maxPages?: number}} [opts]
   * @returns {AsyncGenerator<ListResult, void, void>}
   */
  async *pages(query = {}, opts = {}) {
    let token = query.nextToken;
    const max = opts.maxPages ?? 10000;
    for (let n = 0; n < max; n++) {
      const page = await this.listModelImportJobs({ ...query, nextToken: token }, opts);
      yield page;
      token = page.data.nextToken;
      if (!token) return;
    }
    throw new BedrockGwError({ kind: "protocol", httpStatus: 200, code: 13, message: `more than ${max} pages` });
  }

  /**
   * All jobs of a query, every page.
   * @param {ListQuery} [query]
   * @param {{signal?: AbortSignal, maxPages?: number}} [opts]
   * @returns {Promise<ModelImportJobSummary[]>}
   */
  async listAll(query = {}, opts = {}) {
    /** @type {ModelImportJobSummary[]} */
    const out = [];
    for await (const p of this.pages(query, opts)) out.push(...(p.data.modelImportJobSummaries || []));
    return out;
  }
}

/**
 * The status of a summary in Bedrock's spelling, whichever rendering the
 * page came in (for display).
 * @param {ModelImportJobStatus | ModelImportJobStatusBedrock | undefined} s
 * @returns {ModelImportJobStatusBedrock | "Unknown"}
 */
export function statusBedrock(s) {
  switch (s) {
    case "MODEL_IMPORT_JOB_STATUS_IN_PROGRESS":
    case "InProgress":
      return "InProgress";
    case "MODEL_IMPORT_JOB_STATUS_COMPLETED":
    case "Completed":
      return "Completed";
    case "MODEL_IMPORT_JOB_STATUS_FAILED":
    case "Failed":
      return "Failed";
    default:
      return "Unknown";
  }
}
