# Starts moto's server with DynamoDB writes serialised.
#
# moto serves requests on threads, and its DynamoDB backend checks a
# condition and writes the item in separate steps, so two concurrent
# conditional writes (or transactions) on one item can both succeed. DynamoDB
# never allows that, and custops relies on it (idempotency claims, the outbox).
# One lock around every write restores the AWS behaviour; reads, SQS long polls
# and SNS stay concurrent.
import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_lock = threading.RLock()


def _serialised(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with _lock:
            return method(*args, **kwargs)

    return wrapper


for _name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
    setattr(DynamoDBBackend, _name, _serialised(getattr(DynamoDBBackend, _name)))

main(sys.argv[1:])
