#!/usr/bin/python3
"""List model import jobs through bedrockgw over gRPC.

The message classes are generated from proto/ by the standard protoc
(cmake builds them into build/gen/py); the stub is grpcio's generic
unary_unary, so nothing here is specific to this project's C code.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("BGW_PY_GEN", os.path.join(HERE, "..", "..", "build", "gen", "py")))

import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from bedrockgw.v1 import model_import_jobs_pb2 as pb  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="127.0.0.1:50051")
    ap.add_argument("--key", required=True, help="API key (sent as authorization: Bearer)")
    ap.add_argument("--max-results", type=int, default=0)
    # the spellings REST accepts too: short, proto or Bedrock's
    statuses = {}
    for short, bedrock in (("IN_PROGRESS", "InProgress"), ("COMPLETED", "Completed"), ("FAILED", "Failed")):
        for spelling in (short, "MODEL_IMPORT_JOB_STATUS_" + short, bedrock):
            statuses[spelling] = short
    ap.add_argument("--status", choices=sorted(statuses))
    ap.add_argument("--name-contains", default="")
    ap.add_argument("--next-token", default="")
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()
    req = pb.ListModelImportJobsRequest(max_results=a.max_results, name_contains=a.name_contains,
                                        next_token=a.next_token)
    if a.status:
        req.status_equals = pb.ModelImportJobStatus.Value("MODEL_IMPORT_JOB_STATUS_" + statuses[a.status])
    with grpc.insecure_channel(a.target) as ch:
        rpc = ch.unary_unary("/bedrockgw.v1.ModelImportJobs/ListModelImportJobs",
                             request_serializer=pb.ListModelImportJobsRequest.SerializeToString,
                             response_deserializer=pb.ListModelImportJobsResponse.FromString)
        try:
            resp = rpc(req, timeout=a.timeout, metadata=[("authorization", "Bearer " + a.key)])
        except grpc.RpcError as e:
            print("error: %s: %s" % (e.code().name, e.details()), file=sys.stderr)
            return 1
    print(json_format.MessageToJson(resp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
