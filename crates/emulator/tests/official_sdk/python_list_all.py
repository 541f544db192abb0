"""List every workflow execution from a cos-ci emulator with the OFFICIAL
Tencent Cloud Python SDK (cos-python-sdk-v5), paging by NextToken.

    pip install cos-python-sdk-v5
    cargo run -p cos-ci-emulator -- --executions 150 --session-token tok-123 &
    python3 crates/emulator/tests/official_sdk/python_list_all.py PORT

Prints "N executions in P pages via the official Python SDK". It exercises
what that SDK does differently from cos-ci: it always sends `name=` and
`nextToken=` (empty), `states=All`, `orderByTime=Desc`, sends `+0800` as
`%2B0800`, signs `x-ci-security-token`, and signs the host WITHOUT the port.
"""
import sys

from qcloud_cos import CosConfig, CosS3Client

port = int(sys.argv[1])
config = CosConfig(
    Region="ap-beijing",
    SecretId="AKIDcosciEMULATOR0000000000000000",
    SecretKey="cosciEmulatorSecretKey0000000000",
    Token="tok-123",
    Scheme="http",
    # `Domain` replaces the whole host; `IP`/`Port` would keep a COS Host header.
    Domain="127.0.0.1:%d" % port,
)
client = CosS3Client(config)
total, token, pages = 0, "", 0
while True:
    response = client.ci_list_workflowexecution(
        Bucket="examplebucket-1250000000",
        WorkflowId="",
        Name="",
        NextToken=token,
        Size=100,
        StartCreationTime="2020-01-01T00:00:00+0800",
    )
    pages += 1
    items = response.get("WorkflowExecutionList", [])
    if isinstance(items, dict):  # the SDK returns a dict for a single result
        items = [items]
    total += len(items)
    token = response.get("NextToken") or ""
    if not token:
        break
print(total, "executions in", pages, "pages via the official Python SDK")
