"""The official Python SDK parsing a 100-item list page (its xml_to_dict + format_dict),
for comparison with parse/list_page_100: `pip install cos-python-sdk-v5 && python3 crates/proto/benches/python_sdk_parse.py`."""
import timeit
from qcloud_cos.cos_comm import xml_to_dict, format_dict
item = """<WorkflowExecutionList>
        <RunId>i166ee19017b011eda8a5525400c5%04d</RunId>
        <WorkflowId>web6ac56c1ef54dbfa44d7f4103203be9</WorkflowId>
        <Object>wk-test/game.mp4</Object>
        <CreateTime>2022-08-09T14:54:17+08:00</CreateTime>
        <State>Success</State>
    </WorkflowExecutionList>
"""
body = ("<Response>\n    <RequestId>NjJmMjEyMmFfZWM0YTYyNjRfN2U2NV8yNmI0</RequestId>\n    "
        + "    ".join(item % i for i in range(100)) + "    <NextToken>115716</NextToken>\n</Response>").encode()
def parse():
    d = xml_to_dict(body)
    format_dict(d, ['WorkflowExecution'])
n = 200
t = min(timeit.repeat(parse, number=n, repeat=5)) / n
print("python sdk xml_to_dict: %d bytes, %.0f us per page, %.0f pages/s" % (len(body), t * 1e6, 1 / t))
