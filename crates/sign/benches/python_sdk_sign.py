"""The official Python SDK signing the same list request as sign/list_request,
for comparison: `pip install cos-python-sdk-v5 && python3 crates/sign/benches/python_sdk_sign.py`."""
import timeit, requests, logging
from qcloud_cos import CosConfig, cos_auth
logging.getLogger("qcloud_cos").setLevel(logging.WARNING)
params = {"workflowId": "web6ac56c1ef54dbfa44d7f4103203be9", "states": "Success,Failed", "size": "10",
          "startCreationTime": "2022-08-09T14:00:00+0800", "nextToken": "115716"}
conf = CosConfig(Region="ap-beijing", SecretId="AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q", SecretKey="BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz")
host = "examplebucket-1250000000.ci.ap-beijing.myqcloud.com"
req = requests.Request("GET", "https://%s/workflowexecution" % host, headers={"Host": host}, params=params).prepare()
auth = cos_auth.CosS3Auth(conf, "/workflowexecution", params, 3600)
def sign():
    r = req.copy()
    auth(r)
n = 20000
t = min(timeit.repeat(sign, number=n, repeat=5)) / n
print("python sdk CosS3Auth: %.1f us per signature" % (t * 1e6))
