"""gRPC server reflection (grpc.reflection.v1 and v1alpha) and the
google.api.http annotation.

Reflection is asked over a real bidi stream with Python's grpcio and the
reflection messages protoc generates from Debian's grpc-proto (stock
descriptors, nothing of the gateway's): every kind of question, several on
one stream answered in order, files with their imports once per stream,
errors in the answer without ending the stream, a stream reset, a stream
open across SIGTERM, the switch. An independent client, Node's
grpc-js-reflection-client (unmodified, pinned), lists the services and
calls ListModelImportJobs from the reflected descriptors alone.

The REST mapping the proto states with google.api.http (read from the
descriptor reflection serves) is the route the gateway serves."""
import importlib.util
import json
import os
import queue
import signal
import subprocess
import threading
import time
import unittest

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format
from google.protobuf import message_factory

from harness import KEYS, GatewayTestCase, pb
from test_interop_node import NODE_DIR, node_ready

SERVICES = ["bedrockgw.v1.ModelImportJobs", "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]
CONTRACT = "bedrockgw/v1/model_import_jobs.proto"
CONTRACT_IMPORTS = {"google/api/annotations.proto", "google/api/http.proto",
                    "google/protobuf/descriptor.proto", "google/protobuf/timestamp.proto"}
HTTP_EXTENSION = 72295728  # google.api.http on google.protobuf.MethodOptions


def load_generated(rel):
    """A protoc-generated module by path: grpc/reflection/... cannot be
    imported as a package (grpcio owns the name `grpc`)."""
    path = os.path.join(os.environ["BGW_PY_GEN"], rel)
    spec = importlib.util.spec_from_file_location(rel.replace("/", "_")[:-3], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


R1 = load_generated("grpc/reflection/v1/reflection_pb2.py")
R1A = load_generated("grpc/reflection/v1alpha/reflection_pb2.py")
from google.api import annotations_pb2  # noqa: E402  (generated into PY_GEN)


class Stream:
    """One ServerReflectionInfo call: ask() sends a request and waits for
    its answer; the stream stays open until close()."""

    def __init__(self, channel, mod=R1, version="v1", metadata=None):
        self.mod = mod
        self.q = queue.Queue()
        self.rpc = channel.stream_stream(
            "/grpc.reflection.%s.ServerReflection/ServerReflectionInfo" % version,
            request_serializer=mod.ServerReflectionRequest.SerializeToString,
            response_deserializer=mod.ServerReflectionResponse.FromString)
        self.call = self.rpc(self._requests(), metadata=metadata, timeout=30)

    def _requests(self):
        while True:
            r = self.q.get()
            if r is None:
                return
            yield r

    def send(self, **kw):
        self.q.put(self.mod.ServerReflectionRequest(**kw))

    def ask(self, **kw):
        self.send(**kw)
        return next(self.call)

    def close(self):
        self.q.put(None)
        rest = list(self.call)
        return rest, self.call.code()


def files_of(resp):
    return [descriptor_pb2.FileDescriptorProto.FromString(b)
            for b in resp.file_descriptor_response.file_descriptor_proto]


class Reflection(GatewayTestCase):
    fake_args = {"generate": 40, "seed": 3}

    def stream(self, **kw):
        s = Stream(self.gw.channel, **kw)
        self.addCleanup(lambda: s.q.put(None))
        return s

    def test_list_services_needs_no_key_and_echoes_the_request(self):
        for mod, version in ((R1, "v1"), (R1A, "v1alpha")):
            s = self.stream(mod=mod, version=version)
            r = s.ask(host="gw.example", list_services="")
            self.assertEqual(sorted(x.name for x in r.list_services_response.service), SERVICES)
            self.assertEqual(r.valid_host, "gw.example")
            self.assertEqual(r.original_request.list_services, "")
            self.assertEqual(r.original_request.WhichOneof("message_request"), "list_services")
            self.assertEqual(s.close(), ([], grpc.StatusCode.OK))
        self.assertNoUpstream()

    def test_contract_by_symbol_equals_the_compiled_proto_with_its_imports(self):
        s = self.stream()
        r = s.ask(file_containing_symbol="bedrockgw.v1.ModelImportJobs")
        files = files_of(r)
        self.assertEqual(files[0].name, CONTRACT)
        self.assertEqual({f.name for f in files[1:]}, CONTRACT_IMPORTS)
        # byte for byte what protoc compiled from proto/ for these tests
        # (protoc's descriptor sets also carry each field's json_name: the
        # REST names)
        local = descriptor_pb2.FileDescriptorProto.FromString(pb.DESCRIPTOR.serialized_pb)
        served = descriptor_pb2.FileDescriptorProto()
        served.CopyFrom(files[0])
        for m in served.message_type:
            for f in m.field:
                self.assertEqual(f.json_name, pb.DESCRIPTOR.message_types_by_name[m.name]
                                 .fields_by_name[f.name].json_name)
                f.ClearField("json_name")
        self.assertEqual(served, local)
        # the served files form a complete pool: the service, its types
        pool = descriptor_pool.DescriptorPool()
        by_name = {f.name: f for f in files}

        def add(name):  # imports first
            for dep in by_name[name].dependency:
                try:
                    pool.FindFileByName(dep)
                except KeyError:
                    add(dep)
            pool.Add(by_name[name])
        add(CONTRACT)
        svc = pool.FindServiceByName("bedrockgw.v1.ModelImportJobs")
        m = svc.FindMethodByName("ListModelImportJobs")
        self.assertEqual(m.input_type.full_name, "bedrockgw.v1.ListModelImportJobsRequest")
        self.assertEqual(m.output_type.full_name, "bedrockgw.v1.ListModelImportJobsResponse")
        self.assertEqual([f.name for f in m.input_type.fields],
                         [f.name for f in pb.ListModelImportJobsRequest.DESCRIPTOR.fields])
        # a request built from the reflected types is understood by the gateway
        Req = message_factory.MessageFactory(pool).GetPrototype(m.input_type)
        raw = self.gw.channel.unary_unary(
            "/bedrockgw.v1.ModelImportJobs/ListModelImportJobs",
            request_serializer=lambda x: x.SerializeToString(), response_deserializer=lambda b: b)
        body = raw(Req(max_results=2), metadata=[("x-api-key", KEYS["team-a"])], timeout=10)
        self.assertEqual(len(pb.ListModelImportJobsResponse.FromString(body)
                             .model_import_job_summaries), 2)
        s.close()

    def test_every_kind_of_symbol(self):
        s = self.stream()
        symbols = {
            "bedrockgw.v1.ModelImportJobs.ListModelImportJobs": CONTRACT,
            "bedrockgw.v1.ListModelImportJobsRequest": CONTRACT,
            ".bedrockgw.v1.ListModelImportJobsResponse": CONTRACT,
            "bedrockgw.v1.ListModelImportJobsRequest.max_results": CONTRACT,
            "bedrockgw.v1.SortOrder": CONTRACT,
            "bedrockgw.v1.SORT_ORDER_ASCENDING": CONTRACT,
            "google.protobuf.Timestamp": "google/protobuf/timestamp.proto",
            "google.api.HttpRule": "google/api/http.proto",
            "google.api.http": "google/api/annotations.proto",
            "google.protobuf.MethodOptions": "google/protobuf/descriptor.proto",
            "grpc.health.v1.Health": "grpc/health/v1/health.proto",
            "grpc.reflection.v1alpha.ServerReflection.ServerReflectionInfo":
                "grpc/reflection/v1alpha/reflection.proto",
            "grpc.reflection.v1.ServerReflectionRequest.list_services":
                "grpc/reflection/v1/reflection.proto",
        }
        for sym, want in symbols.items():
            r = s.ask(file_containing_symbol=sym)
            self.assertEqual(r.WhichOneof("message_response"), "file_descriptor_response", sym)
            self.assertEqual(files_of(r)[0].name, want, sym)
        self.assertEqual(s.close(), ([], grpc.StatusCode.OK))

    def test_files_once_per_stream_the_asked_one_always(self):
        s = self.stream()
        first = files_of(s.ask(file_by_filename=CONTRACT))
        self.assertEqual(len(first), 5)
        again = files_of(s.ask(file_by_filename=CONTRACT))
        self.assertEqual([f.name for f in again], [CONTRACT])
        ts = files_of(s.ask(file_by_filename="google/protobuf/timestamp.proto"))
        self.assertEqual([f.name for f in ts], ["google/protobuf/timestamp.proto"])
        s.close()
        # a new stream starts afresh
        s2 = self.stream()
        self.assertEqual(len(files_of(s2.ask(file_by_filename=CONTRACT))), 5)
        s2.close()

    def test_extensions(self):
        s = self.stream()
        r = s.ask(all_extension_numbers_of_type="google.protobuf.MethodOptions")
        self.assertEqual(r.all_extension_numbers_response.base_type_name,
                         "google.protobuf.MethodOptions")
        self.assertEqual(list(r.all_extension_numbers_response.extension_number), [HTTP_EXTENSION])
        r = s.ask(all_extension_numbers_of_type="bedrockgw.v1.ListModelImportJobsRequest")
        self.assertEqual(list(r.all_extension_numbers_response.extension_number), [])
        r = s.ask(file_containing_extension=R1.ExtensionRequest(
            containing_type="google.protobuf.MethodOptions", extension_number=HTTP_EXTENSION))
        self.assertEqual(files_of(r)[0].name, "google/api/annotations.proto")
        r = s.ask(file_containing_extension=R1.ExtensionRequest(
            containing_type="google.protobuf.MethodOptions", extension_number=1))
        self.assertEqual(r.error_response.error_code, grpc.StatusCode.NOT_FOUND.value[0])
        s.close()

    def test_errors_are_answers_and_the_stream_goes_on(self):
        s = self.stream()
        cases = [
            (dict(file_containing_symbol="bedrockgw.v1.NoSuchThing"), 5, "bedrockgw.v1.NoSuchThing"),
            (dict(file_by_filename="nope.proto"), 5, "nope.proto"),
            (dict(all_extension_numbers_of_type="no.Such"), 5, "no.Such"),
            (dict(host="x"), 3, "asks nothing"),
        ]
        for kw, code, text in cases:
            r = s.ask(**kw)
            self.assertEqual(r.error_response.error_code, code, kw)
            self.assertIn(text, r.error_response.error_message)
        r = s.ask(list_services="")
        self.assertEqual(len(r.list_services_response.service), len(SERVICES))
        self.assertEqual(s.close(), ([], grpc.StatusCode.OK))

    def test_many_requests_answered_in_order(self):
        s = self.stream()
        syms = ["bedrockgw.v1.SortOrder", "missing.%d", "google.protobuf.Timestamp"] * 20
        syms = [x % i if "%" in x else x for i, x in enumerate(syms)]
        for sym in syms:  # all sent before any answer is read
            s.send(file_containing_symbol=sym)
        for sym in syms:
            r = next(s.call)
            self.assertEqual(r.original_request.file_containing_symbol, sym)
        self.assertEqual(s.close(), ([], grpc.StatusCode.OK))

    def test_not_a_reflection_request_ends_the_stream(self):
        raw = self.gw.channel.stream_stream(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            request_serializer=lambda b: b, response_deserializer=lambda b: b)
        with self.assertRaises(grpc.RpcError) as cm:
            list(raw(iter([b"\xff\xff\xff"]), timeout=10))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("ServerReflectionRequest", cm.exception.details())
        # a client that sends nothing and ends: OK, no answers
        self.assertEqual(list(raw(iter([]), timeout=10)), [])

    def test_client_cancel_mid_stream_then_more_streams(self):
        s = self.stream()
        s.ask(list_services="")
        s.call.cancel()
        time.sleep(0.2)
        for _ in range(3):
            s2 = self.stream()
            self.assertEqual(len(s2.ask(list_services="").list_services_response.service), 4)
            s2.close()
        self.assertEqual(self.gw.health(), b"\x08\x01")  # SERVING

    def test_http_annotation_is_the_route_the_gateway_serves(self):
        s = self.stream()
        files = {f.name: f for f in files_of(s.ask(file_by_filename=CONTRACT))}
        s.close()
        method = files[CONTRACT].service[0].method[0]
        self.assertEqual(method.name, "ListModelImportJobs")
        opts = descriptor_pb2.MethodOptions.FromString(method.options.SerializeToString())
        rule = annotations_pb2.http  # the extension, from the vendored proto
        pool_opts = pb.DESCRIPTOR.services_by_name["ModelImportJobs"] \
            .methods_by_name["ListModelImportJobs"].GetOptions()
        http = pool_opts.Extensions[rule]
        self.assertEqual(http.WhichOneof("pattern"), "get")
        self.assertEqual(http.body, "")
        self.assertFalse(http.additional_bindings)
        # the served descriptor carries the same option bytes
        self.assertEqual(opts.SerializeToString(), pool_opts.SerializeToString())
        path = http.get
        self.assertEqual(path, "/v1/model-import-jobs")
        # GET on that path is the RPC (every request field a query parameter,
        # grpc-gateway's rule for GET without body): the same answer as gRPC
        status, headers, body = self.gw.rest("maxResults=3&sortOrder=SORT_ORDER_ASCENDING",
                                             path=path)
        self.assertEqual(status, 200)
        resp, _ = self.gw.grpc(pb.ListModelImportJobsRequest(max_results=3, sort_order=1))
        self.assertEqual(body, json_format.MessageToDict(resp))
        for field in pb.ListModelImportJobsRequest.DESCRIPTOR.fields:
            status, _, body = self.gw.rest("%s=" % field.json_name + "x" * 2000, path=path)
            self.assertEqual(status, 400, field.json_name)
            self.assertIn(field.json_name, body["message"])
        # other verbs on it, and other paths, are not the RPC
        status, _, _ = self.gw.rest("", method="POST", path=path)
        self.assertEqual(status, 405)
        status, _, _ = self.gw.rest("", path=path + "/x")
        self.assertEqual(status, 404)

    def test_reflection_client_from_npm(self):
        node_ready()
        for version in ("v1", "v1alpha"):
            p = subprocess.run(["node", os.path.join(NODE_DIR, "reflection.js"),
                                "127.0.0.1:%d" % self.gw.grpc_port, KEYS["team-a"], version],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            out = json.loads(p.stdout.strip().splitlines()[-1])
            self.assertEqual(out["services"], SERVICES)
            self.assertEqual(out["methods"], [{
                "name": "ListModelImportJobs",
                "path": "/bedrockgw.v1.ModelImportJobs/ListModelImportJobs"}])
            rows = out["response"]["model_import_job_summaries"]
            want, _ = self.gw.grpc(pb.ListModelImportJobsRequest(
                max_results=3, sort_order=1, status_equals=2))
            self.assertEqual([r["job_arn"] for r in rows],
                             [j.job_arn for j in want.model_import_job_summaries])
            self.assertTrue(all(r["status"] == "MODEL_IMPORT_JOB_STATUS_COMPLETED" for r in rows))


class ReflectionOff(GatewayTestCase):
    config_over = {"grpc": {"listen": "127.0.0.1:0", "reflection": False}}

    def test_unimplemented_when_off(self):
        # answered at once, while the client still holds its side open
        s = Stream(self.gw.channel)
        t0 = time.monotonic()
        with self.assertRaises(grpc.RpcError) as cm:
            s.ask(list_services="")
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
        self.assertLess(time.monotonic() - t0, 5)
        s.q.put(None)
        # so is any unknown method, streaming or not
        for path in ("/grpc.reflection.v1.ServerReflection/Other", "/no.Such/Method"):
            rpc = self.gw.channel.stream_stream(path, request_serializer=lambda b: b,
                                                response_deserializer=lambda b: b)
            q = queue.Queue()
            call = rpc(iter(q.get, None), timeout=10)
            with self.assertRaises(grpc.RpcError) as cm:
                next(call)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED, path)
            self.assertIn(path, cm.exception.details())
            q.put(None)
        # the contract is still served
        resp, call = self.gw.grpc(pb.ListModelImportJobsRequest(max_results=1))
        self.assertEqual(call.code(), grpc.StatusCode.OK)


class ReflectionShutdown(GatewayTestCase):
    def test_open_stream_ends_at_sigterm_without_holding_the_drain(self):
        g = self.start_gateway()
        ch = grpc.insecure_channel("127.0.0.1:%d" % g.grpc_port)
        s = Stream(ch)
        self.assertEqual(len(s.ask(list_services="").list_services_response.service), 4)
        t0 = time.monotonic()
        g.send_signal(signal.SIGTERM)
        with self.assertRaises(grpc.RpcError) as cm:
            next(s.call)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)
        self.assertIn("shutting down", cm.exception.details())
        self.assertEqual(g.proc.p.wait(timeout=10), 0)
        self.assertLess(time.monotonic() - t0, 2.5)  # well inside shutdown_grace_ms (3 s)
        s.q.put(None)
        ch.close()


if __name__ == "__main__":
    unittest.main()
