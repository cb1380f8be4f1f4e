"""Helpers for the policy / pagination / token tests: tenants with policies,
the visibility rule computed independently in Python, and page walks over
both transports with the same request."""
from google.protobuf import timestamp_pb2

from harness import parse_ts, pb, sha256_hex, ts_to_rfc3339

STATUS_PB = {"InProgress": pb.MODEL_IMPORT_JOB_STATUS_IN_PROGRESS,
             "Completed": pb.MODEL_IMPORT_JOB_STATUS_COMPLETED,
             "Failed": pb.MODEL_IMPORT_JOB_STATUS_FAILED}
ORDER_PB = {"Ascending": pb.SORT_ORDER_ASCENDING, "Descending": pb.SORT_ORDER_DESCENDING}
SECRET = "page-token-secret-for-tests-0123456789abcdef"
PREVIOUS = "previous-page-token-secret-for-tests-0123456"


def tenant(tid, key, policy=None):
    t = {"id": tid, "api_keys": [sha256_hex(key)]}
    if policy is not None:
        t["policy"] = policy
    return t


def ts_tuple(text):
    return parse_ts(text)


def visible(job, policy, filters):
    """Whether job (upstream JSON) is in the tenant's view for filters (the
    REST-style dict of the request). Independent of the gateway's code."""
    name, ct = job["jobName"], ts_tuple(job["creationTime"])
    p = policy or {}
    if p.get("job_name_prefixes") and not any(name.startswith(x) for x in p["job_name_prefixes"]):
        return False
    if p.get("statuses") and job["status"] not in p["statuses"]:
        return False
    if p.get("created_after") and not ct > ts_tuple(p["created_after"]):
        return False
    if p.get("created_before") and not ct < ts_tuple(p["created_before"]):
        return False
    if filters.get("statusEquals") and job["status"] != filters["statusEquals"]:
        return False
    if filters.get("nameContains") and filters["nameContains"] not in name:
        return False
    if filters.get("creationTimeAfter") and not ct > ts_tuple(filters["creationTimeAfter"]):
        return False
    if filters.get("creationTimeBefore") and not ct < ts_tuple(filters["creationTimeBefore"]):
        return False
    return True


def expected_arns(jobs, policy, filters):
    vis = [j for j in jobs if visible(j, policy, filters)]
    desc = filters.get("sortOrder", "Descending") == "Descending"
    vis.sort(key=lambda j: ts_tuple(j["creationTime"]) + (j["jobArn"],), reverse=desc)
    return [j["jobArn"] for j in vis]


def grpc_request(filters, token=""):
    r = pb.ListModelImportJobsRequest(next_token=token)
    for k, f in (("creationTimeAfter", "creation_time_after"), ("creationTimeBefore", "creation_time_before")):
        if filters.get(k):
            s, n = ts_tuple(filters[k])
            getattr(r, f).CopyFrom(timestamp_pb2.Timestamp(seconds=s, nanos=n))
    if filters.get("statusEquals"):
        r.status_equals = STATUS_PB[filters["statusEquals"]]
    if filters.get("nameContains"):
        r.name_contains = filters["nameContains"]
    if filters.get("maxResults"):
        r.max_results = filters["maxResults"]
    if filters.get("sortOrder"):
        r.sort_order = ORDER_PB[filters["sortOrder"]]
    return r


def summary_json_from_pb(m):
    """The proto3 JSON a REST client would see for one typed summary."""
    out = {"jobArn": m.job_arn, "jobName": m.job_name,
           "status": pb.ModelImportJobStatus.Name(m.status)}
    for f, k in (("last_modified_time", "lastModifiedTime"), ("creation_time", "creationTime"),
                 ("end_time", "endTime")):
        if m.HasField(f):
            out[k] = ts_to_rfc3339(getattr(m, f).seconds, getattr(m, f).nanos)
    if m.imported_model_arn:
        out["importedModelArn"] = m.imported_model_arn
    if m.imported_model_name:
        out["importedModelName"] = m.imported_model_name
    return out


class Walker:
    """Page walks of one gateway for one API key, over either transport.
    Each page is (summaries as JSON dicts, token or None)."""

    def __init__(self, test, gw, key):
        self.t, self.gw, self.key = test, gw, key

    def page(self, transport, filters, token=None):
        if transport == "rest":
            q = dict(filters)
            if token:
                q["nextToken"] = token
            st, h, body = self.gw.rest(q, key=self.key)
            self.t.assertEqual(st, 200, body)
            return body.get("modelImportJobSummaries", []), body.get("nextToken")
        resp, _ = self.gw.grpc(grpc_request(filters, token or ""), key=self.key)
        return [summary_json_from_pb(m) for m in resp.model_import_job_summaries], resp.next_token or None

    def walk(self, transport, filters, max_pages=500, on_page=None):
        """All pages: (list of summaries, list of page sizes)."""
        items, sizes, token = [], [], None
        while True:
            got, token = self.page(transport, filters, token)
            items += got
            sizes.append(len(got))
            if on_page:
                on_page(len(sizes))
            if not token:
                return items, sizes
            self.t.assertLess(len(sizes), max_pages, "walk does not end")
