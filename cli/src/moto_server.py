# Starts moto's server with two fixes to its DynamoDB, so it behaves (and
# scales) like DynamoDB for what custops relies on:
#
# 1. Writes are serialised. moto serves requests on threads, and its DynamoDB
#    checks a condition and writes the item in separate steps, so two
#    concurrent conditional writes (or transactions) on one item could both
#    succeed. DynamoDB never allows that (idempotency claims, the outbox).
# 2. TransactWriteItems snapshots only the items it touches. moto deep-copies
#    the whole table once per transaction item to be able to roll back, which
#    makes every transaction cost O(table) time and memory. The snapshot here
#    restores exactly those items when a transaction is cancelled.
#
# Reads, SQS long polls and SNS stay concurrent.
import copy
import functools
import sys
import threading

import moto.dynamodb.models as ddb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.server import main

_lock = threading.RLock()


def _serialised(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with _lock:
            return method(*args, **kwargs)

    return wrapper


class _NoTableCopies:
    """moto.dynamodb.models' view of `copy`: whole tables are not copied."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


ddb_models.copy = _NoTableCopies()
_original_transact = DynamoDBBackend.transact_write_items


def _key_of(table, op):
    if "Key" in op:
        return op["Key"]
    item = op.get("Item", {})
    attrs = [a for a in (table.hash_key_attr, table.range_key_attr) if a]
    return {a: item[a] for a in attrs if a in item}


def _transact_write_items(self, transact_items):
    snapshot = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        name = op.get("TableName")
        table = self.tables.get(name)
        if table is None:
            continue
        key = _key_of(table, op)
        try:
            current = self.get_item(name, key)
        except Exception:
            current = None
        snapshot.append((name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
    try:
        return _original_transact(self, transact_items)
    except Exception:
        for name, key, attributes in reversed(snapshot):
            try:
                self.delete_item(name, key)
            except Exception:
                pass
            if attributes is not None:
                self.put_item(name, attributes)
        raise


DynamoDBBackend.transact_write_items = _transact_write_items
for _name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
    setattr(DynamoDBBackend, _name, _serialised(getattr(DynamoDBBackend, _name)))

main(sys.argv[1:])
