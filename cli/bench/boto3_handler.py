# The Python baseline for cold starts: what a boto3 Lambda handler does before
# its first event (import boto3, build the same three clients), then the same
# Runtime API loop. `custops bench` times it from exec to the first `next`.
import json
import os
import urllib.request

import boto3

dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")
sns = boto3.client("sns")

api = os.environ["AWS_LAMBDA_RUNTIME_API"]
base = f"http://{api}/2018-06-01/runtime/invocation"
while True:
    with urllib.request.urlopen(f"{base}/next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    req = urllib.request.Request(f"{base}/{request_id}/response", data=json.dumps(event).encode(), method="POST")
    urllib.request.urlopen(req).read()
