"""gRPC: every request field reaches Bedrock exactly, typed responses equal
the upstream data, and client deadlines are honoured."""
import time
import unittest

import grpc
from google.protobuf import timestamp_pb2

from harness import (KNOWN_JOBS, GatewayTestCase, expected_pb, parse_ts, pb, sort_key)

Req = pb.ListModelImportJobsRequest


def ts(seconds, nanos=0):
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


class GrpcParameters(GatewayTestCase):
    fake_args = {"generate": 120, "seed": 7}

    def upstream_query(self, req, expected, raw=None):
        self.fake.reset()
        resp, call = self.gw.grpc(req)
        self.assertEqual(call.code(), grpc.StatusCode.OK)
        r = self.one_upstream()
        self.assertEqual(r["query"], expected, r["query_raw"])
        if raw is not None:
            self.assertEqual(r["query_raw"], raw)
        self.assertEqual(r["status"], 200)
        return resp, r

    def test_empty_request_sends_default_page_size(self):
        resp, _ = self.upstream_query(Req(), {"maxResults": "25"}, raw="maxResults=25")
        self.assertEqual(len(resp.model_import_job_summaries), 25)
        self.assertTrue(resp.next_token)

    def test_max_results_zero_means_default(self):
        resp, _ = self.upstream_query(Req(max_results=0), {"maxResults": "25"})
        self.assertEqual(len(resp.model_import_job_summaries), 25)

    def test_max_results(self):
        for n in (1, 7, 1000):
            with self.subTest(n=n):
                resp, _ = self.upstream_query(Req(max_results=n), {"maxResults": str(n)})
                self.assertEqual(len(resp.model_import_job_summaries), min(n, 120))

    def test_timestamps_to_utc_with_fractions(self):
        cases = ((ts(1709267400), "2024-03-01T04:30:00Z"),
                 (ts(1709267400, 500000000), "2024-03-01T04:30:00.500Z"),
                 (ts(1709267400, 1000), "2024-03-01T04:30:00.000001Z"),
                 (ts(1709267400, 123456789), "2024-03-01T04:30:00.123456789Z"))
        for t, sent in cases:
            with self.subTest(sent=sent):
                self.upstream_query(Req(creation_time_after=t), {"creationTimeAfter": sent, "maxResults": "25"})
                self.upstream_query(Req(creation_time_before=t), {"creationTimeBefore": sent, "maxResults": "25"})

    def test_timestamp_from_offset_text(self):
        # A client that builds the Timestamp from "+05:30" text.
        t = timestamp_pb2.Timestamp()
        t.FromJsonString("2024-03-01T10:00:00.25+05:30")
        self.upstream_query(Req(creation_time_after=t),
                            {"creationTimeAfter": "2024-03-01T04:30:00.250Z", "maxResults": "25"})

    def test_zero_timestamp_is_a_filter(self):
        # Field presence: a set-but-zero Timestamp is the epoch, not "unset".
        self.upstream_query(Req(creation_time_after=ts(0)),
                            {"creationTimeAfter": "1970-01-01T00:00:00Z", "maxResults": "25"})

    def test_status_enums(self):
        for e, sent in ((pb.MODEL_IMPORT_JOB_STATUS_IN_PROGRESS, "InProgress"),
                        (pb.MODEL_IMPORT_JOB_STATUS_COMPLETED, "Completed"),
                        (pb.MODEL_IMPORT_JOB_STATUS_FAILED, "Failed")):
            with self.subTest(status=sent):
                resp, _ = self.upstream_query(Req(status_equals=e, max_results=1000),
                                              {"statusEquals": sent, "maxResults": "1000"})
                self.assertTrue(resp.model_import_job_summaries)
                self.assertEqual({j.status for j in resp.model_import_job_summaries}, {e})
        self.upstream_query(Req(status_equals=pb.MODEL_IMPORT_JOB_STATUS_UNSPECIFIED), {"maxResults": "25"})

    def test_name_contains_plus(self):
        resp, r = self.upstream_query(Req(name_contains="exp+llama"),
                                      {"nameContains": "exp+llama", "maxResults": "25"},
                                      raw="maxResults=25&nameContains=exp%2Bllama")
        self.assertTrue(resp.model_import_job_summaries)
        for j in resp.model_import_job_summaries:
            self.assertIn("exp+llama", j.job_name)

    def test_next_token_continues_upstream_cursor(self):
        # The client gets the gateway's own token; passed back, it sends
        # Bedrock's cursor upstream (never the client's text).
        resp, _ = self.upstream_query(Req(max_results=4), {"maxResults": "4"})
        tok = resp.next_token
        self.assertTrue(tok)
        up_tok = self.fake.api_requests()[0]["query"].get("nextToken")
        self.assertIsNone(up_tok)
        self.fake.reset()
        resp2, _ = self.gw.grpc(Req(max_results=4, next_token=tok))
        r = self.one_upstream()
        self.assertTrue(r["query"]["nextToken"])
        self.assertNotEqual(r["query"]["nextToken"], tok)
        a = {j.job_arn for j in resp.model_import_job_summaries}
        b = {j.job_arn for j in resp2.model_import_job_summaries}
        self.assertEqual(len(b), 4)
        self.assertFalse(a & b)

    def test_sort_by_and_order(self):
        self.upstream_query(Req(sort_by=pb.SORT_BY_CREATION_TIME), {"sortBy": "CreationTime", "maxResults": "25"})
        for e, sent in ((pb.SORT_ORDER_ASCENDING, "Ascending"), (pb.SORT_ORDER_DESCENDING, "Descending")):
            with self.subTest(order=sent):
                resp, _ = self.upstream_query(Req(sort_order=e, max_results=1000),
                                              {"sortOrder": sent, "maxResults": "1000"})
                want = [j["jobArn"] for j in sorted(self.fake.jobs(), key=sort_key, reverse=sent == "Descending")]
                self.assertEqual([j.job_arn for j in resp.model_import_job_summaries], want)

    def test_all_fields_exact_wire_form(self):
        req = Req(creation_time_after=ts(1704067200, 500000000), creation_time_before=ts(1767225600),
                  status_equals=pb.MODEL_IMPORT_JOB_STATUS_FAILED, name_contains="shared-", max_results=6,
                  sort_by=pb.SORT_BY_CREATION_TIME, sort_order=pb.SORT_ORDER_DESCENDING)
        resp, r = self.upstream_query(
            req, {"creationTimeAfter": "2024-01-01T00:00:00.500Z", "creationTimeBefore": "2026-01-01T00:00:00Z",
                  "statusEquals": "Failed", "nameContains": "shared-", "maxResults": "6", "sortBy": "CreationTime",
                  "sortOrder": "Descending"},
            raw="creationTimeAfter=2024-01-01T00%3A00%3A00.500Z&creationTimeBefore=2026-01-01T00%3A00%3A00Z"
                "&maxResults=6&nameContains=shared-&sortBy=CreationTime&sortOrder=Descending&statusEquals=Failed")
        self.assertTrue(resp.model_import_job_summaries)
        for j in resp.model_import_job_summaries:
            self.assertEqual(j.status, pb.MODEL_IMPORT_JOB_STATUS_FAILED)
            self.assertIn("shared-", j.job_name)

    def test_x_request_id_in_initial_metadata(self):
        resp, call = self.gw.grpc()
        md = dict(call.initial_metadata())
        self.assertTrue(md.get("x-request-id"))
        ev = self.gw.wait_access(lambda e: e.get("request_id") == md["x-request-id"])
        self.assertEqual(ev["transport"], "grpc")
        self.assertEqual(ev["code"], "OK")

    def test_deadline_shorter_than_upstream(self):
        """Client deadline 0.5 s, Bedrock answers after 3 s: the client sees
        DEADLINE_EXCEEDED promptly, the gateway logs it and stays healthy."""
        self.fake.fault("delay", count=1, delay_ms=3000)
        t0 = time.monotonic()
        with self.assertRaises(grpc.RpcError) as cm:
            self.gw.grpc(Req(max_results=3), timeout=0.5)
        elapsed = time.monotonic() - t0
        self.assertEqual(cm.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertLess(elapsed, 1.5)
        # The upstream did get the call (and was the delayed one).
        reqs = self.fake.api_requests()
        self.assertEqual(len(reqs), 1)
        self.assertEqual(reqs[0]["fault"], "delay")
        ev = self.gw.wait_access(lambda e: e.get("code") == "DEADLINE_EXCEEDED" and e.get("transport") == "grpc")
        self.assertEqual(ev["grpc_code"], 4)
        self.assertEqual(ev["params"].get("maxResults"), 3)
        # Healthy afterwards: next call answers at once.
        t0 = time.monotonic()
        resp, call = self.gw.grpc(Req(max_results=2), timeout=5)
        self.assertEqual(len(resp.model_import_job_summaries), 2)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(self.gw.health(), b"\x08\x01")

    def test_deadline_long_enough_succeeds_through_delay(self):
        self.fake.fault("delay", count=1, delay_ms=300)
        resp, call = self.gw.grpc(Req(max_results=2), timeout=3)
        self.assertEqual(len(resp.model_import_job_summaries), 2)
        self.assertEqual(self.one_upstream()["fault"], "delay")


class GrpcResponses(GatewayTestCase):
    fake_args = {"generate": 0}

    def setUp(self):
        super().setUp()
        self.fake.set_jobs(KNOWN_JOBS)

    def test_typed_response_equals_upstream_data(self):
        resp, call = self.gw.grpc(Req(max_results=10))
        want = [expected_pb(j) for j in sorted(KNOWN_JOBS, key=sort_key, reverse=True)]
        self.assertEqual(list(resp.model_import_job_summaries), want)
        self.assertEqual(resp.next_token, "")
        # Spot-check the Timestamp arithmetic independently of the helper.
        beta = resp.model_import_job_summaries[0]
        self.assertEqual(beta.job_name, "beta-2")
        self.assertEqual((beta.creation_time.seconds, beta.creation_time.nanos), (1714744800, 123456789))
        self.assertFalse(beta.HasField("end_time"))
        self.assertEqual(beta.imported_model_arn, "")
        alpha = resp.model_import_job_summaries[1]
        self.assertEqual((alpha.creation_time.seconds, alpha.creation_time.nanos), (1714557600, 500000000))
        self.assertEqual((alpha.end_time.seconds, alpha.end_time.nanos), (1714608000, 1000))
        self.assertEqual(alpha.status, pb.MODEL_IMPORT_JOB_STATUS_COMPLETED)
        self.assertEqual(self.one_upstream()["query"], {"maxResults": "10"})

    def test_filter_on_offset_instant(self):
        t = timestamp_pb2.Timestamp()
        t.FromJsonString("2024-05-01T12:00:00.5+02:00")  # alpha's creation instant
        resp, _ = self.gw.grpc(Req(creation_time_after=t, sort_order=pb.SORT_ORDER_ASCENDING))
        self.assertEqual([j.job_name for j in resp.model_import_job_summaries], ["beta-2"])
        t.nanos -= 1
        resp, _ = self.gw.grpc(Req(creation_time_after=t, sort_order=pb.SORT_ORDER_ASCENDING))
        self.assertEqual([j.job_name for j in resp.model_import_job_summaries], ["alpha+v1.release", "beta-2"])
        q = [r["query"]["creationTimeAfter"] for r in self.fake.api_requests()]
        self.assertEqual(q, ["2024-05-01T10:00:00.500Z", "2024-05-01T10:00:00.499999999Z"])
        self.assertEqual(parse_ts(q[0]), (1714557600, 500000000))


if __name__ == "__main__":
    unittest.main()
