"""Every invalid request is refused by the gateway itself - INVALID_ARGUMENT
over gRPC, 400 + google.rpc.Status JSON over REST, naming the field - and
Bedrock receives nothing."""
import unittest

import grpc
from google.protobuf import timestamp_pb2

from harness import GatewayTestCase, pb

Req = pb.ListModelImportJobsRequest

# (raw REST query, field the error must name)
REST_CASES = [
    ("maxResults=0", "maxResults"),
    ("maxResults=-1", "maxResults"),
    ("maxResults=1001", "maxResults"),
    ("maxResults=abc", "maxResults"),
    ("maxResults=1e3", "maxResults"),
    ("maxResults=2.0", "maxResults"),
    ("maxResults=99999999999999999999", "maxResults"),
    ("maxResults=", "maxResults"),
    ("nameContains=" + "a" * 64, "nameContains"),
    ("nameContains=a%20b", "nameContains"),
    ("nameContains=a+b%20", "nameContains"),
    ("nameContains=-x", "nameContains"),
    ("nameContains=", "nameContains"),
    ("nameContains=caf%C3%A9", "nameContains"),
    ("nextToken=" + "t" * 2049, "nextToken"),
    ("nextToken=abc%20def", "nextToken"),
    ("nextToken=abc%09def", "nextToken"),
    ("nextToken=", "nextToken"),
    ("statusEquals=Bogus", "statusEquals"),
    ("statusEquals=completed", "statusEquals"),
    ("statusEquals=9", "statusEquals"),
    ("sortBy=Name", "sortBy"),
    ("sortBy=SORT_BY_NAME", "sortBy"),
    ("sortOrder=Sideways", "sortOrder"),
    ("sortOrder=ascending", "sortOrder"),
    ("creationTimeAfter=yesterday", "creationTimeAfter"),
    ("creationTimeAfter=2024-01-02", "creationTimeAfter"),
    ("creationTimeAfter=2024-01-02T03:04:05", "creationTimeAfter"),  # no offset
    ("creationTimeBefore=2024-13-02T03:04:05Z", "creationTimeBefore"),
    ("creationTimeBefore=1704164645", "creationTimeBefore"),
    ("creationTimeAfter=2024-06-01T00:00:00Z&creationTimeBefore=2024-05-01T00:00:00Z", "creationTimeAfter"),
    ("creationTimeAfter=2024-06-01T05:30:00.000000001%2B05:30&creationTimeBefore=2024-06-01T00:00:00Z",
     "creationTimeAfter"),
    ("foo=1", "foo"),
    ("maxResults=5&pageSize=5", "pageSize"),
    ("maxResults=1&maxResults=2", "maxResults"),
    ("maxResults=1&max_results=2", "maxResults"),
    ("nameContains=a&name_contains=b", "nameContains"),
    ("nameContains=%ZZ", "nameContains"),
    ("nameContains=abc%2", "nameContains"),
    ("nameContains=ab%00c", "nameContains"),
]

LONG_NAME = "a" * 64
# (request, field)
GRPC_CASES = [
    (Req(max_results=-1), "maxResults"),
    (Req(max_results=1001), "maxResults"),
    (Req(max_results=-2147483648), "maxResults"),
    (Req(name_contains=LONG_NAME), "nameContains"),
    (Req(name_contains="a b"), "nameContains"),
    (Req(name_contains="-x"), "nameContains"),
    (Req(name_contains="caf\u00e9"), "nameContains"),
    (Req(next_token="t" * 2049), "nextToken"),
    (Req(next_token="abc def"), "nextToken"),
    (Req(next_token="abc\ndef"), "nextToken"),
    (Req(status_equals=9), "statusEquals"),
    (Req(sort_by=5), "sortBy"),
    (Req(sort_order=7), "sortOrder"),
    (Req(creation_time_after=timestamp_pb2.Timestamp(seconds=1717200000),
         creation_time_before=timestamp_pb2.Timestamp(seconds=1714521600)), "creationTimeAfter"),
    (Req(creation_time_after=timestamp_pb2.Timestamp(seconds=100, nanos=2),
         creation_time_before=timestamp_pb2.Timestamp(seconds=100, nanos=1)), "creationTimeAfter"),
    (Req(creation_time_after=timestamp_pb2.Timestamp(seconds=0, nanos=1000000000)), "creationTimeAfter"),
    (Req(creation_time_before=timestamp_pb2.Timestamp(seconds=0, nanos=-1)), "creationTimeBefore"),
    (Req(creation_time_before=timestamp_pb2.Timestamp(seconds=253402300800)), "creationTimeBefore"),
]


class Validation(GatewayTestCase):

    def test_rest_invalid_requests(self):
        for query, field in REST_CASES:
            with self.subTest(query=query[:80]):
                st, h, body = self.gw.rest(raw_query=query)
                self.assertStatusError(st, body, 400, 3, field)
                self.assertTrue(h["content-type"].startswith("application/json"))
                self.assertTrue(h.get("x-request-id"))
                self.assertEqual(body["details"][0]["@type"], "type.googleapis.com/google.rpc.BadRequest")
        self.assertNoUpstream()
        self.assertEqual(self.fake.counters()["requests_total"], 0)

    def test_rest_error_does_not_echo_long_input(self):
        st, h, body = self.gw.rest(raw_query="nextToken=" + "Z" * 2049)
        self.assertStatusError(st, body, 400, 3, "nextToken")
        self.assertNotIn("Z" * 100, body["message"])
        self.assertNoUpstream()

    def test_rest_invalid_requests_are_logged(self):
        st, h, body = self.gw.rest(raw_query="maxResults=0")
        self.assertEqual(st, 400)
        ev = self.gw.wait_access(lambda e: e.get("request_id") == h["x-request-id"])
        self.assertEqual(ev["code"], "INVALID_ARGUMENT")
        self.assertEqual(ev["http_status"], 400)
        self.assertEqual(ev["tenant"], "team-a")
        self.assertNotIn("upstream_status", ev)

    def test_grpc_invalid_requests(self):
        for req, field in GRPC_CASES:
            with self.subTest(req=str(req)[:80].replace("\n", " ")):
                with self.assertRaises(grpc.RpcError) as cm:
                    self.gw.grpc(req)
                self.assertRpcError(cm.exception, grpc.StatusCode.INVALID_ARGUMENT, field)
        self.assertNoUpstream()
        self.assertEqual(self.fake.counters()["requests_total"], 0)

    def test_grpc_undecodable_message(self):
        rpc = self.gw.channel.unary_unary("/bedrockgw.v1.ModelImportJobs/ListModelImportJobs",
                                          request_serializer=lambda b: b, response_deserializer=lambda b: b)
        with self.assertRaises(grpc.RpcError) as cm:
            rpc(b"\xff\xff\xff", timeout=5, metadata=[("x-api-key", "key-team-a-0123456789")])
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertNoUpstream()

    def test_grpc_string_with_nul_is_refused_not_cut(self):
        # protobuf strings may carry NUL bytes; the gateway must not silently
        # shorten "team\0-a-" to "team" (REST refuses %00 the same way).
        for req, field in ((Req(name_contains="team\x00-a-"), "nameContains"),
                           (Req(next_token="abc\x00def"), "nextToken")):
            with self.subTest(field=field):
                with self.assertRaises(grpc.RpcError) as cm:
                    self.gw.grpc(req)
                self.assertRpcError(cm.exception, grpc.StatusCode.INVALID_ARGUMENT, field)
                self.assertIn("NUL", cm.exception.details())
                self.assertNotIn("def", cm.exception.details())
        self.assertNoUpstream()
        # unknown fields (a newer client) are still fine
        raw = Req(max_results=2).SerializeToString() + b"\xa2\x06\x03x\x00y"  # field 100, bytes "x\0y"
        rpc = self.gw.channel.unary_unary("/bedrockgw.v1.ModelImportJobs/ListModelImportJobs",
                                          request_serializer=lambda b: b,
                                          response_deserializer=pb.ListModelImportJobsResponse.FromString)
        resp = rpc(raw, timeout=10, metadata=[("x-api-key", "key-team-a-0123456789")])
        self.assertEqual(len(resp.model_import_job_summaries), 2)

    def test_grpc_max_results_zero_is_default_not_error(self):
        resp, call = self.gw.grpc(Req(max_results=0))
        self.assertEqual(call.code(), grpc.StatusCode.OK)
        self.assertEqual(len(resp.model_import_job_summaries), 25)
        self.assertEqual(self.one_upstream()["query"], {"maxResults": "25"})

    def test_boundaries_are_accepted(self):
        """The limits themselves are legal (1, 1000, 63 chars, 2048 chars)."""
        ok_rest = ["maxResults=1", "maxResults=1000", "nameContains=" + "a" * 63, "nameContains=a-",
                   "nameContains=a.", "nameContains=0+"]
        for q in ok_rest:
            with self.subTest(q=q):
                self.fake.reset()
                st, h, body = self.gw.rest(raw_query=q)
                self.assertEqual(st, 200, body)
                self.assertEqual(len(self.fake.api_requests()), 1)
        # A 2048-character token passes validation but is not one of the
        # gateway's tokens: 400 naming nextToken, and Bedrock sees nothing.
        self.fake.reset()
        tok = "t" * 2048
        st, h, body = self.gw.rest({"nextToken": tok})
        self.assertStatusError(st, body, 400, 3, field="nextToken")
        self.assertNoUpstream()
        with self.assertRaises(grpc.RpcError) as cm:
            self.gw.grpc(Req(next_token=tok))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("nextToken", cm.exception.details())
        self.assertNoUpstream()

    def test_validation_before_nothing_else_when_unauthenticated(self):
        # Authentication comes first: a bad request without a key is a 401.
        st, h, body = self.gw.rest(raw_query="maxResults=0", key=None)
        self.assertStatusError(st, body, 401, 16)
        self.assertNoUpstream()


if __name__ == "__main__":
    unittest.main()
