"""A Python gRPC client of the gateway, generated with
clients/buf.gen.python.local.yaml (docs/clients.md, "Calling from other languages").

Usage: PYTHONPATH=<generated>/python python3 call_gateway.py HOST:PORT

Over gRPC (h2c) it adds a statement to the demo function, repeats the call
with the same idempotency key, and removes a statement that is not there;
the NOT_FOUND's grpc-status-details-bin trailer is decoded into
google.rpc.Status and its ErrorInfo. Prints one JSON object with the
outcomes, for a person or a test to read.
"""

import json
import sys

import grpc
from google.rpc import error_details_pb2, status_pb2
from permission.v1 import permission_pb2, permission_pb2_grpc

TIMEOUT_SECONDS = 10


def add_statement(stub):
    request = permission_pb2.AddLambdaPermissionRequest(
        function_name="demo",
        statement_id="python-client",
        action="lambda:InvokeFunction",
        principal="s3.amazonaws.com",
        idempotency_key="python-client-1",
    )
    outcomes = []
    # The retry carries the same key: the gateway replays the first answer.
    for _ in range(2):
        response, call = stub.AddLambdaPermission.with_call(request, timeout=TIMEOUT_SECONDS)
        headers = dict(call.initial_metadata())
        outcomes.append({
            "statement": json.loads(response.statement),
            "replayed": headers.get("idempotent-replayed") == "true",
        })
    return outcomes


def error_outcome(error):
    trailers = dict(error.trailing_metadata() or ())
    status = status_pb2.Status.FromString(trailers.get("grpc-status-details-bin", b""))
    infos = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            infos.append({"reason": info.reason, "domain": info.domain, "metadata": dict(info.metadata)})
    return {
        "code": error.code().name,
        "message": error.details(),
        "statusCode": status.code,
        "detailTypes": [detail.type_url.rsplit("/", 1)[-1] for detail in status.details],
        "errorInfo": infos,
    }


def remove_missing_statement(stub):
    request = permission_pb2.RemoveLambdaPermissionRequest(function_name="demo", statement_id="not-there")
    try:
        stub.RemoveLambdaPermission(request, timeout=TIMEOUT_SECONDS)
    except grpc.RpcError as error:
        return error_outcome(error)
    return {"code": "OK"}


def main(target):
    # No proxy: the gateway is reached directly, whatever http_proxy says.
    with grpc.insecure_channel(target, options=[("grpc.enable_http_proxy", 0)]) as channel:
        stub = permission_pb2_grpc.PermissionServiceStub(channel)
        result = {"add": add_statement(stub), "removeMissing": remove_missing_statement(stub)}
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: call_gateway.py HOST:PORT")
    main(sys.argv[1])
