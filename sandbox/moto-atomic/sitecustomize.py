"""
Makes the emulator's DynamoDB writes atomic per request, as DynamoDB's are.

DynamoDB's item operations (PutItem, UpdateItem, DeleteItem) "are atomic"
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html), so of
two concurrent conditional writes on one item, one sees the other's result. moto's threaded server
reads the item, evaluates the condition and writes without a lock (moto 5.2.5,
dynamodb/models/__init__.py: update_item), so two concurrent conditional writes can both pass.
The break-glass code relies on the documented behaviour (leases, idempotency keys, the DENIED
alert limiter, optimistic locking on grants); this serialises moto's DynamoDB writes so the
emulator tests what AWS does. Python loads this module at start-up when its directory is on
PYTHONPATH (sandbox/moto.ts sets it for the moto server).
"""
import functools
import threading

try:
    from moto.dynamodb.models import DynamoDBBackend
except Exception:  # moto absent or reorganised: run unpatched rather than not at all
    DynamoDBBackend = None

if DynamoDBBackend is not None:
    _lock = threading.RLock()

    def _serialised(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            with _lock:
                return method(*args, **kwargs)

        return wrapper

    for _name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item", "get_item", "query", "scan", "transact_get_items"):
        if hasattr(DynamoDBBackend, _name):
            setattr(DynamoDBBackend, _name, _serialised(getattr(DynamoDBBackend, _name)))
