"""REST/JSON: every query parameter reaches Bedrock exactly (decoded value,
encoding on the wire, signature), and responses are proto3 JSON that a
standard protobuf client reads and that equals the upstream data."""
import unittest

from google.protobuf import json_format

from harness import (KNOWN_JOBS, GatewayTestCase, expected_json, expected_pb, parse_ts, pb,
                     sort_key)


class RestParameters(GatewayTestCase):
    fake_args = {"generate": 120, "seed": 7}

    def call_ok(self, query):
        st, h, body = self.gw.rest(raw_query=query) if isinstance(query, str) else self.gw.rest(query)
        self.assertEqual(st, 200, body)
        self.assertIsInstance(body, dict, body)
        self.assertIn("modelImportJobSummaries", body)
        return h, body

    def upstream_query(self, query, expected, raw=None):
        """Calls with query (raw string or pairs); the one upstream request
        must carry exactly the decoded params in expected (and query_raw raw)."""
        self.fake.reset()
        h, body = self.call_ok(query)
        r = self.one_upstream()
        self.assertEqual(r["query"], expected, r["query_raw"])
        if raw is not None:
            self.assertEqual(r["query_raw"], raw)
        self.assertEqual(r["status"], 200, r)
        return body, r

    def test_no_params_sends_only_default_page_size(self):
        body, r = self.upstream_query("", {"maxResults": "25"}, raw="maxResults=25")
        self.assertEqual(len(body["modelImportJobSummaries"]), 25)
        self.assertTrue(body.get("nextToken"))

    def test_creation_time_offset_literal_plus(self):
        # A literal '+' in the query is a '+', never a space (proto3 JSON over
        # REST, not HTML forms).
        self.upstream_query("creationTimeAfter=2024-03-01T10:00:00+05:30",
                            {"creationTimeAfter": "2024-03-01T04:30:00Z", "maxResults": "25"},
                            raw="creationTimeAfter=2024-03-01T04%3A30%3A00Z&maxResults=25")

    def test_creation_time_offset_percent_encoded(self):
        self.upstream_query("creationTimeAfter=2024-03-01T10%3A00%3A00%2B05%3A30",
                            {"creationTimeAfter": "2024-03-01T04:30:00Z", "maxResults": "25"},
                            raw="creationTimeAfter=2024-03-01T04%3A30%3A00Z&maxResults=25")

    def test_creation_time_negative_offset_and_fraction(self):
        self.upstream_query("creationTimeBefore=2025-06-30T22:15:00.25-02:00",
                            {"creationTimeBefore": "2025-07-01T00:15:00.250Z", "maxResults": "25"})

    def test_fractional_seconds_preserved(self):
        for given, sent in (("2024-02-29T23:59:59.123456789Z", "2024-02-29T23:59:59.123456789Z"),
                            ("2024-02-29T23:59:59.000001Z", "2024-02-29T23:59:59.000001Z"),
                            ("2024-02-29T23:59:59.1Z", "2024-02-29T23:59:59.100Z"),
                            ("2024-03-01T05:29:59.999+05:30", "2024-02-29T23:59:59.999Z"),
                            ("2024-02-29T23:59:59.000Z", "2024-02-29T23:59:59Z")):
            with self.subTest(given=given):
                self.upstream_query({"creationTimeAfter": given},
                                    {"creationTimeAfter": sent, "maxResults": "25"})

    def test_time_window_filters_upstream_data(self):
        after, before = "2024-06-01T02:00:00+02:00", "2024-09-01T00:00:00Z"
        body, _ = self.upstream_query({"creationTimeAfter": after, "creationTimeBefore": before,
                                       "maxResults": 1000},
                                      {"creationTimeAfter": "2024-06-01T00:00:00Z",
                                       "creationTimeBefore": "2024-09-01T00:00:00Z", "maxResults": "1000"})
        lo, hi = parse_ts("2024-06-01T00:00:00Z"), parse_ts(before)
        want = [j["jobArn"] for j in sorted(self.fake.jobs(), key=sort_key, reverse=True)
                if lo < parse_ts(j["creationTime"]) < hi]
        self.assertTrue(want)
        self.assertEqual([j["jobArn"] for j in body["modelImportJobSummaries"]], want)

    def test_status_equals_proto_and_bedrock_spellings(self):
        for given, sent in (("MODEL_IMPORT_JOB_STATUS_IN_PROGRESS", "InProgress"),
                            ("MODEL_IMPORT_JOB_STATUS_COMPLETED", "Completed"),
                            ("MODEL_IMPORT_JOB_STATUS_FAILED", "Failed"),
                            ("InProgress", "InProgress"), ("Completed", "Completed"), ("Failed", "Failed")):
            with self.subTest(given=given):
                body, _ = self.upstream_query({"statusEquals": given, "maxResults": 1000},
                                              {"statusEquals": sent, "maxResults": "1000"})
                items = body["modelImportJobSummaries"]
                self.assertTrue(items)
                want = "MODEL_IMPORT_JOB_STATUS_" + {"InProgress": "IN_PROGRESS", "Completed": "COMPLETED",
                                                     "Failed": "FAILED"}[sent]
                self.assertEqual({j["status"] for j in items}, {want})

    def test_name_contains_literal_plus(self):
        for raw in ("nameContains=exp+llama", "nameContains=exp%2Bllama", "nameContains=exp%2bllama"):
            with self.subTest(raw=raw):
                body, r = self.upstream_query(raw, {"nameContains": "exp+llama", "maxResults": "25"},
                                              raw="maxResults=25&nameContains=exp%2Bllama")
                names = [j["jobName"] for j in body["modelImportJobSummaries"]]
                self.assertTrue(names, "the data set has exp+llama jobs")
                for n in names:
                    self.assertIn("exp+llama", n)

    def test_name_contains_dots_and_dashes(self):
        self.upstream_query("nameContains=custom.v2-0", {"nameContains": "custom.v2-0", "maxResults": "25"},
                            raw="maxResults=25&nameContains=custom.v2-0")

    def test_max_results(self):
        for n in (1, 7, 1000):
            with self.subTest(n=n):
                body, _ = self.upstream_query("maxResults=%d" % n, {"maxResults": str(n)})
                self.assertEqual(len(body["modelImportJobSummaries"]), min(n, 120))

    def test_next_token_continues_upstream_cursor(self):
        # The client gets the gateway's own token; passed back, it sends
        # Bedrock's cursor upstream (never the client's text).
        body, _ = self.upstream_query("maxResults=3", {"maxResults": "3"})
        tok = body["nextToken"]
        first = [j["jobArn"] for j in body["modelImportJobSummaries"]]
        self.fake.reset()
        st, h, body2 = self.gw.rest({"maxResults": 3, "nextToken": tok})
        self.assertEqual(st, 200, body2)
        r = self.one_upstream()
        self.assertTrue(r["query"]["nextToken"])
        self.assertNotIn(tok, r["query_raw"])
        second = [j["jobArn"] for j in body2["modelImportJobSummaries"]]
        self.assertEqual(len(second), 3)
        self.assertFalse(set(first) & set(second))

    def test_sort_by_and_sort_order(self):
        for given, sent in (("SORT_BY_CREATION_TIME", "CreationTime"), ("CreationTime", "CreationTime")):
            with self.subTest(sortBy=given):
                self.upstream_query({"sortBy": given}, {"sortBy": sent, "maxResults": "25"})
        for given, sent in (("SORT_ORDER_ASCENDING", "Ascending"), ("Ascending", "Ascending"),
                            ("SORT_ORDER_DESCENDING", "Descending"), ("Descending", "Descending")):
            with self.subTest(sortOrder=given):
                body, _ = self.upstream_query({"sortOrder": given, "maxResults": 1000},
                                              {"sortOrder": sent, "maxResults": "1000"})
                got = [j["jobArn"] for j in body["modelImportJobSummaries"]]
                want = [j["jobArn"] for j in sorted(self.fake.jobs(), key=sort_key, reverse=sent == "Descending")]
                self.assertEqual(got, want)

    def test_all_parameters_at_once_exact_wire_form(self):
        # Every parameter; the upstream query is sorted, upper-case %XX.
        q = [("creationTimeAfter", "2024-01-01T05:30:00.5+05:30"), ("creationTimeBefore", "2026-01-01T00:00:00Z"),
             ("statusEquals", "MODEL_IMPORT_JOB_STATUS_COMPLETED"), ("nameContains", "exp+"),
             ("maxResults", "5"), ("sortBy", "SORT_BY_CREATION_TIME"), ("sortOrder", "SORT_ORDER_ASCENDING")]
        body, r = self.upstream_query(q, {"creationTimeAfter": "2024-01-01T00:00:00.500Z",
                                          "creationTimeBefore": "2026-01-01T00:00:00Z", "statusEquals": "Completed",
                                          "nameContains": "exp+", "maxResults": "5", "sortBy": "CreationTime",
                                          "sortOrder": "Ascending"},
                                      raw="creationTimeAfter=2024-01-01T00%3A00%3A00.500Z"
                                          "&creationTimeBefore=2026-01-01T00%3A00%3A00Z&maxResults=5"
                                          "&nameContains=exp%2B&sortBy=CreationTime&sortOrder=Ascending"
                                          "&statusEquals=Completed")
        items = body["modelImportJobSummaries"]
        self.assertTrue(items)
        for j in items:
            self.assertEqual(j["status"], "MODEL_IMPORT_JOB_STATUS_COMPLETED")
            self.assertIn("exp+", j["jobName"])
        times = [parse_ts(j["creationTime"]) for j in items]
        self.assertEqual(times, sorted(times))

    def test_snake_case_names_accepted(self):
        # proto3 JSON parsers accept the original field names too.
        self.upstream_query("max_results=4&name_contains=team-a&sort_order=Ascending",
                            {"maxResults": "4", "nameContains": "team-a", "sortOrder": "Ascending"})

    def test_zero_enum_means_no_filter(self):
        self.upstream_query("statusEquals=MODEL_IMPORT_JOB_STATUS_UNSPECIFIED&sortOrder=SORT_ORDER_UNSPECIFIED",
                            {"maxResults": "25"})

    def test_head_is_get_without_body(self):
        st, h, body = self.gw.rest(method="HEAD")
        self.assertEqual(st, 200)
        self.assertIsNone(body)
        self.assertEqual(self.one_upstream()["query"], {"maxResults": "25"})


class RestResponses(GatewayTestCase):
    """Responses against a data set with known values."""
    fake_args = {"generate": 0}

    def setUp(self):
        super().setUp()
        self.fake.set_jobs(KNOWN_JOBS)

    def test_proto3_json_equals_upstream_data(self):
        st, h, body = self.gw.rest({"maxResults": 10})
        self.assertEqual(st, 200, body)
        self.assertTrue(h["content-type"].startswith("application/json"), h)
        want = [expected_json(j) for j in sorted(KNOWN_JOBS, key=sort_key, reverse=True)]
        self.assertEqual(body["modelImportJobSummaries"], want)
        self.assertNotIn("nextToken", body)
        # Unknown upstream fields are dropped, not passed through.
        raw = self.gw.last_raw.decode()
        for k in ("modelArchitecture", "vpcConfig", "unknownFlag", "failureMessage", "somethingNew"):
            self.assertNotIn(k, raw)
        self.assertEqual(self.one_upstream()["query"], {"maxResults": "10"})

    def test_standard_protobuf_client_parses_the_json(self):
        st, h, body = self.gw.rest()
        self.assertEqual(st, 200, body)
        msg = json_format.Parse(self.gw.last_raw.decode("utf-8"), pb.ListModelImportJobsResponse())
        want = [expected_pb(j) for j in sorted(KNOWN_JOBS, key=sort_key, reverse=True)]
        self.assertEqual(list(msg.model_import_job_summaries), want)
        self.assertEqual(msg.next_token, "")
        # And the gRPC view of the same data is the same message.
        resp, _ = self.gw.grpc()
        self.assertEqual(resp, msg)

    def test_page_with_token_parses(self):
        st, h, body = self.gw.rest({"maxResults": 1, "sortOrder": "Ascending"})
        self.assertEqual(st, 200, body)
        msg = json_format.Parse(self.gw.last_raw.decode("utf-8"), pb.ListModelImportJobsResponse())
        self.assertEqual(len(msg.model_import_job_summaries), 1)
        self.assertTrue(msg.next_token)
        self.assertEqual(msg.next_token, body["nextToken"])
        first = sorted(KNOWN_JOBS, key=sort_key)[0]
        self.assertEqual(body["modelImportJobSummaries"], [expected_json(first)])

    def test_offsets_and_fractions_filter_exactly(self):
        # alpha was created at 10:00:00.500Z, given upstream as 12:00:00.5+02:00.
        cases = (("2024-05-01T12:00:00.4+02:00", ["beta00000002", "alpha0000001"]),
                 ("2024-05-01T12:00:00.5+02:00", ["beta00000002"]),
                 ("2024-05-01T10:00:00.499999999Z", ["beta00000002", "alpha0000001"]))
        for after, want in cases:
            with self.subTest(after=after):
                self.fake.reset()
                st, h, body = self.gw.rest({"creationTimeAfter": after})
                self.assertEqual(st, 200, body)
                got = [j["jobArn"].rsplit("/", 1)[1] for j in body["modelImportJobSummaries"]]
                self.assertEqual(got, want)
                self.assertEqual(self.one_upstream()["query"]["creationTimeAfter"],
                                 {"2024-05-01T12:00:00.4+02:00": "2024-05-01T10:00:00.400Z",
                                  "2024-05-01T12:00:00.5+02:00": "2024-05-01T10:00:00.500Z",
                                  "2024-05-01T10:00:00.499999999Z": "2024-05-01T10:00:00.499999999Z"}[after])

    def test_name_with_plus_in_known_data(self):
        st, h, body = self.gw.rest(raw_query="nameContains=alpha+v1")
        self.assertEqual(st, 200, body)
        self.assertEqual([j["jobName"] for j in body["modelImportJobSummaries"]], ["alpha+v1.release"])
        self.assertEqual(self.one_upstream()["query"]["nameContains"], "alpha+v1")

    def test_empty_result(self):
        st, h, body = self.gw.rest({"nameContains": "nosuchjob"})
        self.assertEqual(st, 200, body)
        self.assertEqual(body.get("modelImportJobSummaries", []), [])
        self.assertNotIn("nextToken", body)
        msg = json_format.Parse(self.gw.last_raw.decode(), pb.ListModelImportJobsResponse())
        self.assertEqual(len(msg.model_import_job_summaries), 0)


if __name__ == "__main__":
    unittest.main()


class EnumSpellings(GatewayTestCase):
    """?enums=bedrock: Bedrock's status spellings for clients ported from
    boto3 code; proto3 JSON stays the default. Cached answers of the two
    renderings never mix."""
    config_over = {"cache": {"enabled": True, "ttl_ms": 60000}}

    def statuses(self, body):
        return {j["status"] for j in body["modelImportJobSummaries"]}

    def test_bedrock_spellings_on_request_proto_by_default(self):
        q = {"maxResults": 50}
        st, h1, proto = self.gw.rest(q)
        self.assertEqual(st, 200)
        self.assertTrue(self.statuses(proto) <= {"MODEL_IMPORT_JOB_STATUS_IN_PROGRESS",
                                                 "MODEL_IMPORT_JOB_STATUS_COMPLETED",
                                                 "MODEL_IMPORT_JOB_STATUS_FAILED"}, proto)
        st, h2, bed = self.gw.rest(dict(q, enums="bedrock"))
        self.assertEqual(st, 200)
        self.assertTrue(self.statuses(bed) <= {"InProgress", "Completed", "Failed"}, bed)
        self.assertGreater(len(self.statuses(bed)), 1)
        self.assertEqual([j["jobArn"] for j in bed["modelImportJobSummaries"]],
                         [j["jobArn"] for j in proto["modelImportJobSummaries"]])
        self.assertNotEqual(h1["etag"], h2["etag"])
        # each is served again from its own cached rendering
        st, h3, again = self.gw.rest(q)
        self.assertEqual((st, again["modelImportJobSummaries"]), (200, proto["modelImportJobSummaries"]))
        st, h4, again = self.gw.rest(dict(q, enums="bedrock"))
        self.assertEqual((st, again["modelImportJobSummaries"]), (200, bed["modelImportJobSummaries"]))
        self.assertEqual(h4["etag"], h2["etag"])
        st, _, same = self.gw.rest(dict(q, enums="proto"))
        self.assertEqual(same["modelImportJobSummaries"], proto["modelImportJobSummaries"])
        self.assertEqual(len(self.fake.api_requests()), 1)
        # the option is not a filter: a page token walks either way
        st, _, page = self.gw.rest({"maxResults": 3, "enums": "bedrock"})
        st, _, nxt = self.gw.rest({"maxResults": 3, "nextToken": page["nextToken"]})
        self.assertEqual(st, 200, nxt)

    def test_bad_enums_value_names_the_parameter(self):
        for q in ({"enums": "BEDROCK"}, {"enums": ""}, [("enums", "bedrock"), ("enums", "proto")]):
            with self.subTest(q=q):
                st, _, body = self.gw.rest(q)
                self.assertStatusError(st, body, 400, 3, field="enums")
        self.assertNoUpstream()
