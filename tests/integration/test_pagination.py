"""Multi-page walks over REST and gRPC: the pages, followed by nextToken
until it is absent, are exactly the filtered data set in order, and empty
upstream pages that still carry a token neither end the walk nor shorten
the client's pages."""
import unittest

from harness import GatewayTestCase, pb, sort_key

PAGE = 7
ORDERS = {"Ascending": pb.SORT_ORDER_ASCENDING, "Descending": pb.SORT_ORDER_DESCENDING}
STATUS = {"Completed": pb.MODEL_IMPORT_JOB_STATUS_COMPLETED}


class Pagination(GatewayTestCase):
    fake_args = {"generate": 120, "seed": 11}
    MAX_PAGES = 200

    def expected(self, order, status=None):
        jobs = self.fake.jobs()
        self.assertEqual(len(jobs), 120)
        if status:
            jobs = [j for j in jobs if j["status"] == status]
        return [j["jobArn"] for j in sorted(jobs, key=sort_key, reverse=order == "Descending")]

    def walk_rest(self, order, status=None, on_page=None):
        """Returns (arns, pages) where pages lists (n_items, token)."""
        arns, pages, token = [], [], None
        while True:
            q = {"maxResults": PAGE, "sortOrder": order}
            if status:
                q["statusEquals"] = status
            if token:
                q["nextToken"] = token
            st, h, body = self.gw.rest(q)
            self.assertEqual(st, 200, body)
            items = body.get("modelImportJobSummaries", [])
            self.assertLessEqual(len(items), PAGE)
            arns += [j["jobArn"] for j in items]
            token = body.get("nextToken")
            pages.append((len(items), token))
            if on_page:
                on_page(len(pages))
            if not token:
                return arns, pages
            self.assertLess(len(pages), self.MAX_PAGES, "walk does not end")

    def walk_grpc(self, order, status=None, on_page=None):
        arns, pages, token = [], [], ""
        while True:
            req = pb.ListModelImportJobsRequest(max_results=PAGE, sort_order=ORDERS[order], next_token=token)
            if status:
                req.status_equals = STATUS[status]
            resp, call = self.gw.grpc(req)
            self.assertLessEqual(len(resp.model_import_job_summaries), PAGE)
            arns += [j.job_arn for j in resp.model_import_job_summaries]
            token = resp.next_token
            pages.append((len(resp.model_import_job_summaries), token))
            if on_page:
                on_page(len(pages))
            if not token:
                return arns, pages
            self.assertLess(len(pages), self.MAX_PAGES, "walk does not end")

    def check_upstream_walk(self, n_pages, order, status=None):
        reqs = self.fake.api_requests()
        self.assertEqual(len(reqs), n_pages)
        prev_token = None
        for i, r in enumerate(reqs):
            self.assertSigned(r)
            self.assertEqual(r["status"], 200)
            self.assertEqual(r["query"]["maxResults"], str(PAGE))
            self.assertEqual(r["query"]["sortOrder"], order)
            self.assertEqual(r["query"].get("statusEquals"), status)
            if i == 0:
                self.assertNotIn("nextToken", r["query"])
            else:
                self.assertTrue(r["query"].get("nextToken"))
                self.assertNotEqual(r["query"]["nextToken"], prev_token)
            prev_token = r["query"].get("nextToken")

    def test_walk_rest(self):
        for order in ORDERS:
            for status in (None, "Completed"):
                with self.subTest(order=order, status=status):
                    self.fake.reset()
                    want = self.expected(order, status)
                    arns, pages = self.walk_rest(order, status)
                    self.assertEqual(len(set(arns)), len(arns), "duplicates")
                    self.assertEqual(arns, want)
                    self.assertEqual(len(pages), -(-len(want) // PAGE))
                    self.assertTrue(all(n == PAGE for n, _ in pages[:-1]))
                    self.check_upstream_walk(len(pages), order, status)

    def test_walk_grpc(self):
        for order in ORDERS:
            for status in (None, "Completed"):
                with self.subTest(order=order, status=status):
                    self.fake.reset()
                    want = self.expected(order, status)
                    arns, pages = self.walk_grpc(order, status)
                    self.assertEqual(len(set(arns)), len(arns), "duplicates")
                    self.assertEqual(arns, want)
                    self.assertEqual(len(pages), -(-len(want) // PAGE))
                    self.check_upstream_walk(len(pages), order, status)

    def test_rest_and_grpc_walks_agree(self):
        a, _ = self.walk_rest("Descending")
        b, _ = self.walk_grpc("Descending")
        self.assertEqual(a, b)
        self.assertEqual(len(a), 120)

    def _walk_through_empty_pages(self, walk):
        # Bedrock may send empty pages that still carry a token: the gateway
        # reads on through them, so the client's pages stay full.
        for order in ORDERS:
            with self.subTest(order=order):
                self.fake.reset()
                want = self.expected(order)

                def inject(n_pages_done):
                    if n_pages_done == 3:
                        self.fake.fault("empty_page", count=2)
                    if n_pages_done == 9:
                        self.fake.fault("empty_page", count=1)
                arns, pages = walk(order, on_page=inject)
                self.assertEqual(arns, want)
                self.assertEqual(len(pages), -(-len(want) // PAGE))
                self.assertTrue(all(n == PAGE for n, _ in pages[:-1]), [n for n, _ in pages])
                faults = [r["fault"] for r in self.fake.api_requests()]
                self.assertEqual(faults.count("empty_page"), 3)
                self.assertEqual(len(faults), len(pages) + 3)

    def test_empty_pages_rest(self):
        self._walk_through_empty_pages(self.walk_rest)

    def test_empty_pages_grpc(self):
        self._walk_through_empty_pages(self.walk_grpc)

    def test_changing_page_size_mid_walk(self):
        st, h, body = self.gw.rest({"maxResults": 5})
        got = [j["jobArn"] for j in body["modelImportJobSummaries"]]
        st, h, body = self.gw.rest({"maxResults": 1000, "nextToken": body["nextToken"]})
        self.assertEqual(st, 200, body)
        got += [j["jobArn"] for j in body["modelImportJobSummaries"]]
        self.assertNotIn("nextToken", body)
        self.assertEqual(got, self.expected("Descending"))


if __name__ == "__main__":
    unittest.main()
