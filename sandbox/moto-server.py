"""moto's server, with DynamoDB's item operations made serializable.

moto 5 runs its server threaded, and its TransactWriteItems is not thread-safe: it deep-copies
each table it touches, applies the writes, and on a failed condition puts the copies back. A write
that landed in between (another transaction, a PutItem, an UpdateItem) is silently lost, and a
transaction can report success while a concurrent rollback erases it. Real DynamoDB never loses an
acknowledged write: conflicting transactions are cancelled (TransactionConflict), never undone
afterwards. Under concurrency the stock emulator therefore produces states AWS cannot, and tests of
races fail at random.

Its single-item writes are not atomic either: update_item reads the item, evaluates the condition
and writes without a lock, so two concurrent conditional writes on one item can both pass. DynamoDB's
item operations "are atomic" (Developer Guide, "Working with items and attributes"), and break-glass
relies on that (leases, idempotency keys, the DENIED-alert limiter, optimistic locking on grants).

This launcher holds one lock around every DynamoDB item read and write, so each operation, and
each transaction as a whole, sees and leaves a consistent table, as DynamoDB's serializable
transactions do. It changes nothing else; `moto_server`'s arguments pass through.
"""
import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_lock = threading.RLock()
_SERIALIZED = (
    "put_item",
    "get_item",
    "batch_get_item",
    "query",
    "scan",
    "update_item",
    "delete_item",
    "transact_write_items",
    "batch_write_item",
    "transact_get_items",
)


def _serialized(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with _lock:
            return method(*args, **kwargs)

    return wrapper


for _name in _SERIALIZED:
    if hasattr(DynamoDBBackend, _name):
        setattr(DynamoDBBackend, _name, _serialized(getattr(DynamoDBBackend, _name)))

# moto's TransactWriteItems deep-copies the whole table once per action of the transaction (for its
# rollback), so an emulated transaction costs actions × table size, a cost DynamoDB does not have. The
# copies are all taken before any action applies, so they are equal: take the first and reuse it. Same
# rollback, same semantics; a transaction of five actions no longer costs five copies of the table.
import copy as _copy  # noqa: E402

import moto.dynamodb.models as _models  # noqa: E402
from moto.dynamodb.models.table import Table as _Table  # noqa: E402

_transact = DynamoDBBackend.transact_write_items


def _transact_copying_each_table_once(self, *args, **kwargs):
    copies = {}

    def deepcopy(obj, *more):
        if not isinstance(obj, _Table):
            return _copy.deepcopy(obj, *more)
        if id(obj) not in copies:
            copies[id(obj)] = _copy.deepcopy(obj, *more)
        return copies[id(obj)]

    with _lock:  # module state is swapped only while no other DynamoDB operation runs
        _models.copy = type("copy", (), {"deepcopy": staticmethod(deepcopy)})
        try:
            return _transact(self, *args, **kwargs)
        finally:
            _models.copy = _copy


DynamoDBBackend.transact_write_items = _transact_copying_each_table_once

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())
