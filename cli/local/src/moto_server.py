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
# 3. Query reads only what it must. moto lists and sorts the whole table for
#    every Query, even on one partition, and scans it for a GSI Query, so a
#    Query costs O(table log table) and a long run slows down quadratically.
#    Here a table Query sees only its partition, and a GSI Query only the
#    items with its key value, from an index kept up to date on every write;
#    moto's own code still does the matching, sorting, paging and filtering.
#    A GSI key value's items are kept in moto's sort order between writes, and
#    a page after the first (ExclusiveStartKey, Limit) sees only the items
#    from its start key on, found by bisection: paging through one key value
#    of N items costs O(N) in all, not O(N) per page (a sweep of 100,000
#    lapsed customers at one store reads 200 pages).
# 4. ReceiveMessage reads a queue's retention period directly, and
#    SendMessage its one attribute it asks for. moto computes every queue
#    attribute (three passes over the queue's messages) for each message it
#    hands out or takes in, so either cost O(queue length) per message.
# 5. No access log line per request.
# 6. Opt-in transaction conflicts. Serialising writes (fix 1) means two
#    concurrent TransactWriteItems on one item never conflict here, while
#    DynamoDB cancels one of them (TransactionCanceledException, reason
#    TransactionConflict) and rejects a PutItem, UpdateItem or DeleteItem on an
#    item a transaction holds (TransactionConflictException); the SDK retries
#    neither. With CUSTOPS_TX_CONFLICT_MS set (milliseconds, 0: off), each
#    transaction holds its items for that long before it runs, outside the
#    write lock, so tests can check how custops handles those errors.
# 7. It ends when the process that started it does (polled each second), so
#    a test process killed before its drop ran leaves no server behind.
# 8. GET /custops-emulator/pid answers with this process's id, so the one
#    that started it knows the server answering on its port is this one and
#    not another emulator that took the port first (this one then fails to
#    bind it and exits, but not before the other has answered).
# 9. Forked starts (`--zygote`, below): moto imported once, a server forked
#    per start.
#
# Reads, SQS long polls and SNS stay concurrent.
import copy
import functools
import inspect
import json
import logging
import os
import signal
import sys
import threading
import time

import moto.dynamodb.models as ddb_models
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException, TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.core.utils import unix_time
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.moto_api import recorder
from moto.server import MotoRequestHandler, create_backend_app
from moto.sqs.models import SQSBackend

# Every DynamoDB write (fix 1) and every index update (fix 3) holds this lock.
_lock = threading.RLock()


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

# --- 3. Query over a partition or a GSI key value, not the whole table -------

# table name -> index name -> key value -> {(hash, range)}; and the reverse,
# table name -> (hash, range) -> [(index name, key value)]. Guarded by _lock.
_gsi = {}
_indexed_under = {}
# Tables whose index must be rebuilt (a write this file cannot attribute).
_stale = set()
# (table name, index name, key value) -> its items in moto's sort order, as
# of the last write under that key value. Guarded by _lock.
_sorted = {}
_scope = threading.local()


def _gsi_hash_attrs(table):
    """The GSIs with one HASH attribute: index name -> attribute."""
    out = {}
    for index in table.global_indexes or []:
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        if len(hashes) == 1:
            out[index.name] = hashes[0]
    return out


def _reindex(table, hash_value, range_value):
    by_index = _gsi.setdefault(table.name, {})
    under = _indexed_under.setdefault(table.name, {})
    key = (hash_value, range_value)
    for index_name, value in under.pop(key, []):
        _sorted.pop((table.name, index_name, value), None)
        keys = by_index.get(index_name, {}).get(value)
        if keys is not None:
            keys.discard(key)
    if range_value is not None:
        item = table.items.get(hash_value, {}).get(range_value)
    else:
        item = table.items.get(hash_value)
    if item is None:
        return
    entries = []
    for index_name, attr in _gsi_hash_attrs(table).items():
        value = item.attrs.get(attr)
        if value is not None:
            _sorted.pop((table.name, index_name, value), None)
            by_index.setdefault(index_name, {}).setdefault(value, set()).add(key)
            entries.append((index_name, value))
    if entries:
        under[key] = entries


def _rebuild(table):
    for cached in [k for k in _sorted if k[0] == table.name]:
        del _sorted[cached]
    _gsi.pop(table.name, None)
    _indexed_under.pop(table.name, None)
    for partition in list(table.items.values()):
        items = list(partition.values()) if table.range_key_attr else [partition]
        for item in items:
            _reindex(table, item.hash_key, item.range_key)
    _stale.discard(table.name)


def _touched(backend, method, args, kwargs):
    """(table name, key dict) of every item a write method may have changed,
    or None when it cannot tell."""
    if method in ("update_item", "delete_item"):
        return [(kwargs.get("table_name", args[0] if args else None), kwargs.get("key", args[1] if len(args) > 1 else None))]
    if method == "put_item":
        name = kwargs.get("table_name", args[0] if args else None)
        attrs = kwargs.get("item_attrs", args[1] if len(args) > 1 else None)
        table = backend.tables.get(name)
        return [(name, _key_of(table, {"Item": attrs}))] if table is not None and attrs else None
    if method == "transact_write_items":
        out = []
        for entry in kwargs.get("transact_items", args[0] if args else []):
            _, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is not None:
                out.append((table.name, _key_of(table, op)))
        return out
    return None


def _indexed(method_name, method):
    """A write, serialised (fix 1), then the GSI index of what it touched."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with _lock:
            try:
                return method(self, *args, **kwargs)
            finally:
                touched = _touched(self, method_name, args, kwargs)
                if touched is None:
                    _stale.update(self.tables.keys())
                for name, key in touched or []:
                    table = self.tables.get(name)
                    if table is None or not key:
                        continue
                    try:
                        hash_value, range_value = self.get_keys_value(table, key)
                    except Exception:
                        _stale.add(name)
                        continue
                    _reindex(table, hash_value, range_value)

    return wrapper


# Writes this file cannot attribute to items (PartiQL, batches) mark every
# table's index stale; the next GSI Query rebuilds it once.
for _name in (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "batch_write_item",
    "execute_statement",
    "execute_transaction",
    "batch_execute_statement",
):
    if hasattr(DynamoDBBackend, _name):
        setattr(DynamoDBBackend, _name, _indexed(_name, getattr(DynamoDBBackend, _name)))

_original_query = Table.query
_original_all_items = Table.all_items
_query_signature = inspect.signature(_original_query)


def _sort_attrs(table, index_name):
    """(hash attributes, range attributes) moto sorts a GSI Query's items by
    (as its Table.query computes them), or None for an index it is not."""
    index = next((i for i in table.global_indexes or [] if i.name == index_name), None)
    if index is None:
        return None
    hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    if len(hashes) != 1 or len(ranges) > 1:
        return None
    hash_attrs = hashes + [table.hash_key_attr]
    if ranges:
        return hash_attrs, ranges + [table.range_key_attr], ranges
    own = table.range_key_attr or table.hash_key_attr
    return hash_attrs, [own, table.range_key_attr], []


def _in_order(table, index_name, value, attrs):
    """The items under one GSI key value that the index holds (every key
    attribute present), in moto's sort order; cached until a write under it."""
    cached = _sorted.get((table.name, index_name, value))
    if cached is not None:
        return cached
    hash_attrs, range_attrs, ranges = attrs
    items = []
    for hash_value, range_value in _gsi[table.name].get(index_name, {}).get(value, ()):
        item = table.items.get(hash_value, {}).get(range_value) if range_value is not None else table.items.get(hash_value)
        if item is not None and all(item.attrs.get(r) for r in ranges):
            items.append(item)
    # moto's order for the same items (its sort is stable over this order).
    items.sort(key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
    items = table.sorted_items(hash_attrs, range_attrs, items)
    _sorted[(table.name, index_name, value)] = items
    return items


def _candidates(table, a):
    """The items a Query can match, or None to let moto look at every item."""
    hash_key, index_name = a.get("hash_key"), a.get("index_name")
    if not index_name:
        if hash_key is None:
            return None
        partition = table.items.get(hash_key)
        if partition is None:
            return []
        return list(partition.values()) if table.range_key_attr else [partition]
    attr = _gsi_hash_attrs(table).get(index_name)
    values = [v for k, v in (a.get("hash_key_conditions") or []) if k == attr] or ([hash_key] if hash_key is not None else [])
    attrs = _sort_attrs(table, index_name)
    if attr is None or attrs is None or len(values) != 1:
        return None
    if table.name in _stale or table.name not in _gsi:
        _rebuild(table)
    items = _in_order(table, index_name, values[0], attrs)
    start, limit = a.get("exclusive_start_key"), a.get("limit")
    if start is None or not limit:
        return list(items)
    # A later page: what moto would skip (every item up to and including the
    # start key, in the page's direction) is skipped by bisection, and moto
    # sees the next `limit` items and one more (so it knows there is more).
    # Items after the start key that match the key condition are contiguous
    # (every condition DynamoDB allows on a sort key is a range), so moto's
    # answer and LastEvaluatedKey are the same as over the whole list.
    forward = a.get("scan_index_forward") is not False
    order = items if forward else items[::-1]
    hash_attrs, range_attrs, _ = attrs
    lo, hi = 0, len(order)
    while lo < hi:
        mid = (lo + hi) // 2
        if table._item_comes_before_dct(order[mid], start, hash_attrs, range_attrs, forward):
            lo = mid + 1
        else:
            hi = mid
    comparison, objs = a.get("range_comparison"), a.get("range_objs")
    ranges = attrs[2]
    if comparison and lo < len(order):
        first = order[lo].attrs.get(ranges[0]) if ranges else None
        if first is None or not first.compare(comparison, objs):
            # A start key outside the matching range: moto walks the rest.
            return order[lo:]
    return order[lo : lo + int(limit) + 1]


def _query(self, *args, **kwargs):
    bound = _query_signature.bind(self, *args, **kwargs)
    with _lock:
        candidates = _candidates(self, bound.arguments)
    if candidates is None:
        return _original_query(self, *args, **kwargs)
    _scope.candidates = (self, candidates)
    try:
        return _original_query(self, *args, **kwargs)
    finally:
        _scope.candidates = None


def _all_items(self):
    scoped = getattr(_scope, "candidates", None)
    if scoped is not None and scoped[0] is self:
        return scoped[1]
    return _original_all_items(self)


Table.query = _query
Table.all_items = _all_items

# --- 4. ReceiveMessage without recomputing every queue attribute -------------


def _within_retention(self, queue_name, message):
    queue = self.get_queue(queue_name)
    return int(queue.message_retention_period) + message.sent_timestamp / 1000 > unix_time()


SQSBackend.is_message_valid_based_on_retention_period = _within_retention

# SendMessage asks the queue's attributes for one of them
# (ContentBasedDeduplication) and so counts every message in the queue: a
# send cost O(queue length), and handing 100,000 lapsed customers to win-back
# took hours. While a message is sent, a queue answers just that attribute.
from moto.sqs.models import Queue  # noqa: E402

_queue_attributes = Queue.attributes.fget


def _attributes(self):
    if getattr(_scope, "sending", False):
        if not self.fifo_queue:
            return {}
        return {"ContentBasedDeduplication": str(getattr(self, "content_based_deduplication", False)).lower()}
    return _queue_attributes(self)


Queue.attributes = property(_attributes)
_original_send = SQSBackend.send_message


def _send_message(self, *args, **kwargs):
    _scope.sending = True
    try:
        return _original_send(self, *args, **kwargs)
    finally:
        _scope.sending = False


SQSBackend.send_message = _send_message

# --- 5. Quiet server ----------------------------------------------------------
logging.getLogger("werkzeug").setLevel(logging.WARNING)

# --- 6. Transaction conflicts, when asked for ---------------------------------

# How long a TransactWriteItems holds its items before it runs; 0: no conflicts.
# (Read when the server starts: _configure_conflicts.)
_conflict_window = 0
# (table ARN, key) -> the transaction holding that item. Guarded by _in_flight_lock,
# never held together with _lock.
_in_flight = {}
_in_flight_lock = threading.Lock()
_ONGOING = "Transaction is ongoing for the item"


class TransactionConflict(DynamodbException):
    """What DynamoDB answers a single-item write on an item a transaction holds
    (moto has no such error)."""

    error_type = ERROR_TYPE_PREFIX + "TransactionConflictException"

    def __init__(self):
        super().__init__(TransactionConflict.error_type, _ONGOING)


def _item_id(table, key):
    attrs = [a for a in (table.hash_key_attr, table.range_key_attr) if a]
    return (table.table_arn, json.dumps({a: key.get(a) for a in attrs}, sort_keys=True))


def _holding(transact):
    """A transaction that holds its items for the window, then runs (serialised)."""

    @functools.wraps(transact)
    def wrapper(self, *args, **kwargs):
        transact_items = kwargs.get("transact_items", args[0] if args else [])
        ids = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            ids.append(_item_id(table, _key_of(table, op)) if table is not None else None)
        held = [i for i in ids if i is not None]
        if len(transact_items) > 100 or len(set(held)) < len(held):
            # Invalid: let moto reject it, as DynamoDB does before any conflict.
            return transact(self, *args, **kwargs)
        me = object()
        with _in_flight_lock:
            conflicts = [i is not None and i in _in_flight for i in ids]
            if any(conflicts):
                raise TransactionCanceledException(
                    [("TransactionConflict", _ONGOING, None) if c else (None, None, None) for c in conflicts]
                )
            for i in held:
                _in_flight[i] = me
        try:
            time.sleep(_conflict_window)
            return transact(self, *args, **kwargs)
        finally:
            with _in_flight_lock:
                for i in held:
                    if _in_flight.get(i) is me:
                        del _in_flight[i]

    return wrapper


def _unless_held(handler, key_field):
    """A PutItem, UpdateItem or DeleteItem request, refused while a transaction
    holds its item. (Hooked on the requests, not the backend, so moto's own
    writes inside a transaction or a BatchWriteItem are not refused.)"""

    @functools.wraps(handler)
    def wrapper(self):
        table = self.dynamodb_backend.tables.get(self.body.get("TableName"))
        key = self.body.get(key_field)
        if table is not None and isinstance(key, dict):
            item_id = _item_id(table, key)
            with _in_flight_lock:
                if item_id in _in_flight:
                    raise TransactionConflict()
        return handler(self)

    return wrapper


def _configure_conflicts():
    """Fix 6, when CUSTOPS_TX_CONFLICT_MS asks for it (read as the server
    starts, so a forked server (fix 9) reads its own)."""
    global _conflict_window
    _conflict_window = int(os.environ.get("CUSTOPS_TX_CONFLICT_MS") or 0) / 1000
    if _conflict_window > 0:
        DynamoDBBackend.transact_write_items = _holding(DynamoDBBackend.transact_write_items)
        DynamoHandler.put_item = _unless_held(DynamoHandler.put_item, "Item")
        DynamoHandler.update_item = _unless_held(DynamoHandler.update_item, "Key")
        DynamoHandler.delete_item = _unless_held(DynamoHandler.delete_item, "Key")


def _exit_with(owner_alive):
    """Fix 7: ends the server when the process that started it is gone (a test
    process killed or ended without its drop running): no emulator outlives
    its owner. Polled each second."""

    def watch():
        while True:
            time.sleep(1)
            if not owner_alive():
                os._exit(0)

    threading.Thread(target=watch, name="exit-with-owner", daemon=True).start()


_dispatch = DomainDispatcherApplication.__call__


def _identified(self, environ, start_response):
    """Fix 8: which process this server is."""
    if environ.get("PATH_INFO") == "/custops-emulator/pid":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(os.getpid()).encode()]
    return _dispatch(self, environ, start_response)


DomainDispatcherApplication.__call__ = _identified


# --- 9. Forked starts -----------------------------------------------------------
#
# `--zygote SOCKET` imports moto once, with the apps and service models of
# the services custops calls already loaded, and forks a server for each
# request on the Unix socket SOCKET: a started emulator answers in milliseconds, not the second or more
# of CPU each Python start spends importing moto (a test run starts a hundred).
# One zygote per socket (an flock on SOCKET.lock); it exits after IDLE
# seconds without a request, and each server it forks ends with the process
# that asked for it (fix 7), as a directly started one does.
#
# A request is one line of JSON: {"port", "owner", "log", "env"}; the answer
# one line, the server's process id (or "error: ..."). The fork happens in
# the zygote's one thread: no lock another thread held is copied held.
# The services custops calls (their apps built and models loaded before a fork).
_SERVICES = ["dynamodb", "sns", "sqs", "secretsmanager", "cognito-idp", "sts"]
_IDLE = 60


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _app():
    """moto's server application, as `moto.server.main` builds it."""
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    return app


def _serve(app, port):
    """Serves `app` on loopback `port` as `moto.server.main` does; both
    kinds of start (direct and forked) end here."""
    from werkzeug.serving import run_simple

    os.environ["MOTO_PORT"] = str(port)
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)


def _forked(app, request, keep_out):
    """In the forked child: becomes the requested server, never returns."""
    try:
        for f in keep_out:
            f.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.environ.update(request.get("env") or {})
        recorder._location = os.environ.get("MOTO_RECORDER_FILEPATH", recorder._location)
        _configure_conflicts()
        owner = int(request["owner"])
        _exit_with(lambda: _alive(owner))
        _serve(app, int(request["port"]))
    except SystemExit as e:
        os._exit(e.code if isinstance(e.code, int) else 0)
    except BaseException as e:  # noqa: BLE001 - reported on its log, then gone
        print(f"custops emulator: {e!r}", file=sys.stderr, flush=True)
    os._exit(1)


def _zygote(path):
    import fcntl
    import socket

    lock = open(path + ".lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # another zygote serves this socket
    from moto.core.utils import get_service_model

    app = _app()
    for service in _SERVICES + ["moto_api"]:
        app.app_instances[service] = create_backend_app(service)
    # The service models moto reads requests and writes answers with.
    for service in _SERVICES:
        model = get_service_model(service)
        for operation in model.operation_names:
            model.operation_model(operation)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked servers are reaped as they end
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    listener.settimeout(_IDLE)
    try:
        while True:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                return
            with conn:
                conn.settimeout(10)
                try:
                    request = json.loads(conn.makefile("r").readline())
                except (OSError, ValueError) as e:
                    conn.sendall(f"error: {e}\n".encode())
                    continue
                pid = os.fork()
                if pid == 0:
                    _forked(app, request, [listener, lock, conn])
                conn.sendall(f"{pid}\n".encode())
    finally:
        os.unlink(path)
        listener.close()


if sys.argv[1:2] == ["--zygote"]:
    _zygote(sys.argv[2])
else:
    # `--port PORT`: one server, started directly.
    _configure_conflicts()
    _parent = os.getppid()
    _exit_with(lambda: os.getppid() == _parent)
    _serve(_app(), int(sys.argv[sys.argv.index("--port") + 1]))
