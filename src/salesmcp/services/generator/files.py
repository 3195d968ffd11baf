"""A generation straight to files: Parquet or CSV in a local folder or at an fsspec URL (``s3://``, ``gs://``,
``az://``), without a database.

The rows are the plan's blocks, as a database run writes them (ids from 1, as in an empty database), so the
files hold exactly what ``salesmcp export`` of that database run writes: the same columns, types and values.
Each table is a folder of files, one per block (``orders/part-00003.parquet`` holds the fourth block of
10,000 orders, ``order_items/part-00003.parquet`` their lines, and so on), written as each block is made:
memory stays flat at any size.

Products come last: their ``stock`` is what the run left (the planned stock less what its orders sold), known
only once every block of orders is made. Partitions (k of n, as on a database) each write their own blocks and
a small account in ``_partitions/`` (what their orders sold, the rows they wrote); the partition that finds
all n accounts there writes the products and ``_run.json`` (the request, rows per table, the flaws made).

The blocks are also the unit for Spark, Ray or Dask: ``block_tables(plan, block)`` is a pure function of the
request and a block number (see docs/generator.md).
"""

from __future__ import annotations

import json
import os
import posixpath
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from salesmcp.errors import InvalidInput
from salesmcp.services.generator.codes import utf8
from salesmcp.services.generator.flaws import NULL_TEXT
from salesmcp.services.generator.make import Chunk, Plan
from salesmcp.services.generator.params import GenerationRequest
from salesmcp.store.schema import metadata

FORMATS = ("parquet", "csv")
FILES_INSTALL = 'pip install "salesmcp[files]"'  # pyarrow and fsspec (and s3fs, gcsfs, adlfs for the clouds)
PARTITIONS_DIR = "_partitions"
RUN_FILE = "_run.json"
Progress = Callable[[int], None]
"""Called with the number of orders just written."""


@dataclass(frozen=True)
class FilesRun:
    """What a files run (or partition) did: where, which partition, the rows it wrote per table, and whether it
    finished the run (wrote the products and ``_run.json``)."""

    out: str
    format: str
    partition: tuple[int, int]
    counts: dict[str, int]
    finished: bool

    def as_dict(self) -> dict[str, Any]:
        k, n = self.partition
        return {"out": self.out, "format": self.format, "partition": f"{k}/{n}", "counts": self.counts,
                "finished": self.finished}  # fmt: skip


def write_files(
    request: GenerationRequest,
    out: str,
    fmt: str = "parquet",
    partition: tuple[int, int] = (1, 1),
    progress: Progress | None = None,
) -> FilesRun:
    """Write partition ``k/n`` of the run ``request`` describes to ``out`` as ``fmt``."""
    store = open_files(request, out, fmt)
    fingerprint = request.fingerprint()
    plan = Plan(request)
    k, n = partition
    counts = dict.fromkeys(("customers", "orders", "order_items", "payments", "shipments", "returns"), 0)
    sold = np.zeros(plan.n_products, dtype=np.int64)
    with _Writers(store, fmt) as writers:
        for block in range(k - 1, plan.customer_blocks, n):
            counts["customers"] += writers.write(plan.customer_chunk(block), block)
        for block in range(k - 1, plan.order_blocks, n):
            made = plan.order_block(block)
            for chunk in made.chunks():
                counts[chunk.table] += writers.write(chunk, block)
            sold += plan.sold(made)
            if progress is not None:
                progress(len(made.orders))
    account = {"fingerprint": fingerprint, "format": fmt, "sold": sold.tolist(), "counts": counts}
    store.put_json(f"{PARTITIONS_DIR}/part-{k:05d}-of-{n:05d}.json", account)
    finished = _finish_when_all_there(store, plan, fmt, n)
    return FilesRun(store.url, fmt, partition, counts, finished)


def open_files(request: GenerationRequest, out: str, fmt: str) -> FileStore:
    """Where ``request``'s files go, checked before anything is written: a known format, pyarrow there, a folder
    or URL that can be written and holds no other generation's files."""
    if fmt not in FORMATS:
        raise InvalidInput("format", f"must be one of {', '.join(FORMATS)}; got {fmt!r}")
    _pyarrow()
    store = FileStore.open(out)
    fingerprint = request.fingerprint()
    earlier = [store.get_json(RUN_FILE), *(store.get_json(name) for name in store.names(PARTITIONS_DIR))]
    if any(found is not None and found.get("fingerprint") != fingerprint for found in earlier):
        raise InvalidInput("out", f"{store.url} holds the files of another generation; choose an empty folder")
    return store


def blocks_written(store: FileStore, fmt: str) -> int:
    """How many blocks of orders are in ``store`` (finished files only): what a run of several processes shows
    as its progress."""
    return sum(1 for name in store.names("orders") if name.endswith(f".{fmt}"))


class _Writers:
    """Chunks turned into Arrow and written by two threads while the caller makes the next block (numpy's column
    operations and pyarrow's encoding and writing mostly run without the GIL). At most ``AHEAD`` chunks wait:
    memory stays flat.
    The first error is raised in the caller; leaving waits for every write."""

    AHEAD = 12

    def __init__(self, store: FileStore, fmt: str) -> None:
        self.store, self.fmt = store, fmt
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="salesmcp-files")
        self.pending: deque[Future[int]] = deque()

    def __enter__(self) -> _Writers:
        return self

    def write(self, chunk: Chunk, block: int) -> int:
        while len(self.pending) >= self.AHEAD:
            self.pending.popleft().result()
        pa = _pyarrow()
        self.pending.append(self.pool.submit(lambda: self.store.write(table_of(pa, chunk), chunk.table, block,
                                                                      self.fmt)))  # fmt: skip
        return len(chunk)

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            while self.pending:
                written = self.pending.popleft()
                if error is None:
                    written.result()
                else:
                    written.cancel()
        finally:
            self.pool.shutdown(wait=True)


def block_tables(plan: Plan, block: int) -> dict[str, Any]:
    """Block ``block`` of orders as pyarrow tables, one per table (orders, order_items, payments, shipments,
    returns): what a Spark, Ray or Dask task makes for its block numbers."""
    pa = _pyarrow()
    return {chunk.table: table_of(pa, chunk) for chunk in plan.order_block(block).chunks()}


def _finish_when_all_there(store: FileStore, plan: Plan, fmt: str, n: int) -> bool:
    """With every partition's account there: the products (their stock settled) and ``_run.json``."""
    names = [f"{PARTITIONS_DIR}/part-{k:05d}-of-{n:05d}.json" for k in range(1, n + 1)]
    accounts = [store.get_json(name) for name in names]
    expected = {"fingerprint": plan.request.fingerprint(), "format": fmt}
    if any(account is None or {key: account.get(key) for key in expected} != expected for account in accounts):
        return False  # a partition still to come (an account of another run is not this one's)
    sold = np.sum([np.asarray(account["sold"], dtype=np.int64) for account in accounts if account], axis=0)
    stock = plan.initial_stock - sold
    if (stock < 0).any():
        raise RuntimeError("stock would go negative; the partitions' accounts do not match this run")
    pa = _pyarrow()
    first = 0
    for block in range(plan.product_blocks):
        chunk = plan.product_chunk(block)
        settled = Chunk(chunk.table, [*chunk.columns[:5], stock[first : first + len(chunk)], *chunk.columns[6:]])
        store.write(table_of(pa, settled), "products", block, fmt)
        first += len(chunk)
    counts: dict[str, int] = {"products": plan.n_products}
    for account in accounts:
        for table, rows in (account or {})["counts"].items():
            counts[table] = counts.get(table, 0) + int(rows)
    blocks = {"orders": plan.order_blocks, "customers": plan.customer_blocks, "products": plan.product_blocks}
    run = {"fingerprint": expected["fingerprint"], "request": plan.request.model_dump(mode="json"), "format": fmt,
           "partitions": n, "counts": counts, "flaws": plan.flaw_counts(), "blocks": blocks}  # fmt: skip
    store.put_json(RUN_FILE, run)
    return True


# -- columns to Arrow ---------------------------------------------------------------------------------------


def table_of(pa: Any, chunk: Chunk) -> Any:
    """The chunk as a pyarrow table with the database export's schema (``exports.arrow_schema``)."""
    schema = _schema(chunk.table)
    columns = dict(zip(chunk.names, zip(chunk.kinds, chunk.columns, strict=True), strict=True))
    arrays = [_array(pa, field.type, *columns[field.name]) for field in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


@cache
def _schema(table: str) -> Any:
    """A table's Arrow schema, as the database export writes it (made once per table, not once per chunk)."""
    from salesmcp.services.exports import arrow_schema

    return arrow_schema(_pyarrow(), metadata.tables[table])


def _array(pa: Any, kind: Any, how: str, values: np.ndarray) -> Any:
    if how == "money":  # integer cents → decimal128 with scale 2: its unscaled 128-bit integers, built directly
        cents = values.astype(np.int64)
        unscaled = np.empty((len(cents), 2), dtype=np.int64)
        unscaled[:, 0], unscaled[:, 1] = cents, cents >> 63  # low word, then the sign extended
        return pa.Array.from_buffers(kind, len(cents), [None, pa.py_buffer(unscaled.tobytes())])
    if how == "date":
        return pa.array(values.astype(np.int32), type=pa.int32()).cast(kind)
    if how == "ts":
        seconds = values.astype(np.int64)
        return pa.array(seconds * 1_000_000, type=pa.int64(), mask=seconds < 0).cast(kind)
    if how == "opt":
        return _string_array(pa, kind, _text(values), values == NULL_TEXT)
    if how == "bool":
        return pa.array(values.astype(bool, copy=False), type=kind)
    if how == "int":
        return pa.array(values.astype(np.int64, copy=False), type=kind)
    return _string_array(pa, kind, _text(values))


def _text(values: np.ndarray) -> np.ndarray:
    """numpy's fixed-width text, whatever came."""
    return values if values.dtype.kind == "U" else values.astype(np.str_)


def _string_array(pa: Any, kind: Any, values: np.ndarray, null: np.ndarray | None = None) -> Any:
    """A numpy text column as an Arrow string array, its UTF-8 and offsets built by whole-column operations
    (``pa.array`` encodes value by value: 3 to 4x slower); NULL where ``null``. A column holding a lone surrogate,
    which has no UTF-8, or a NUL inside a value goes to ``pa.array`` (which refuses the one, keeps the other)."""
    n, width = len(values), values.dtype.itemsize // 4
    if n == 0 or width == 0:
        return pa.array(values, type=kind, mask=null)
    values = np.ascontiguousarray(values)
    length = np.strings.str_len(values)
    codes = values.view(np.uint32)
    if null is not None and null.any():
        codes = np.where(null[:, None], 0, codes.reshape(n, width)).reshape(-1)  # a NULL holds no bytes
        length = np.where(null, 0, length)
    points = codes[codes != 0]  # every character, value after value: a value's NULs are only its padding
    if len(points) != int(length.sum()):
        return pa.array(values, type=kind, mask=null)
    if (points < 0x80).all():  # ASCII: a byte each
        data, sizes = points.astype(np.uint8), length
    elif ((points >= 0xD800) & (points < 0xE000)).any():
        return pa.array(values, type=kind, mask=null)
    else:
        data, per_point = utf8(points)
        sizes = np.bincount(np.repeat(np.arange(n), length), weights=per_point, minlength=n).astype(np.int64)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(sizes, out=offsets[1:])
    validity = None if null is None or not null.any() else pa.py_buffer(np.packbits(~null, bitorder="little"))
    return pa.Array.from_buffers(kind, n, [validity, pa.py_buffer(offsets), pa.py_buffer(data)])


def _csv_columns(pa: Any, table: Any) -> Any:
    """The table's columns as the database export writes them in CSV: exact decimals, ISO dates and timestamps
    (``2025-01-31T10:00:00``), true/false, nothing for NULL."""
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type):
            seconds = column.cast(pa.timestamp("s"))  # whole seconds: %S writes no fraction then
            columns.append(pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%S"))
        elif pa.types.is_string(column.type):
            columns.append(column)
        else:
            columns.append(column.cast(pa.string()))
    return pa.Table.from_arrays(columns, names=table.column_names)


# -- where the files go ---------------------------------------------------------------------------------------


class FileStore:
    """A folder, local or at an fsspec URL: files written whole (locally through a temporary name)."""

    def __init__(self, fs: Any, root: str, url: str) -> None:
        self.fs, self.root, self.url = fs, root.rstrip("/"), url
        self.local = "file" in _protocols(fs)

    @classmethod
    def open(cls, out: str) -> FileStore:
        if not isinstance(out, str) or not out.strip():
            raise InvalidInput("out", "name a folder or an fsspec URL (s3://bucket/prefix, gs://…, az://…)")
        try:
            import fsspec.core
        except ImportError:
            raise InvalidInput("out", f"writing files needs fsspec, which is not installed: {FILES_INSTALL}") from None
        try:
            fs, root = fsspec.core.url_to_fs(out.strip())
        except (ImportError, ValueError) as exc:  # s3:// without s3fs, an unknown protocol
            raise InvalidInput("out", f"cannot write to {out}: {exc}") from None
        store = cls(fs, root, out.strip())
        try:
            store.fs.makedirs(store.root, exist_ok=True)
        except OSError as exc:
            raise InvalidInput("out", f"cannot create {out}: {exc.strerror or exc}") from None
        return store

    def path(self, name: str) -> str:
        return posixpath.join(self.root, name) if not self.local else os.path.join(self.root, *name.split("/"))

    def write(self, table: Any, name: str, block: int, fmt: str) -> int:
        """``table`` as ``<name>/part-<block>.<fmt>``; the rows written."""
        import pyarrow.csv
        import pyarrow.parquet

        from salesmcp.services.exports import parquet_options

        relative = f"{name}/part-{block:05d}.{fmt}"
        with self._writing(relative) as handle:
            if fmt == "parquet":
                pyarrow.parquet.write_table(table, handle, **parquet_options(_pyarrow(), table.schema))
            else:
                # The header as the export writes it (pyarrow would quote every name); the names are plain words.
                handle.write((",".join(table.column_names) + "\n").encode())
                options = pyarrow.csv.WriteOptions(include_header=False, quoting_style="needed")
                pyarrow.csv.write_csv(_csv_columns(_pyarrow(), table), handle, write_options=options)
        return int(table.num_rows)

    def put_json(self, name: str, value: object) -> None:
        with self._writing(name) as handle:
            handle.write(json.dumps(value, separators=(",", ":")).encode())

    def names(self, folder: str) -> list[str]:
        """The files in ``folder`` (relative to the root, as ``folder/name``); none when it is missing."""
        try:
            self.fs.invalidate_cache(self.path(folder))  # an object store's listing may be cached
            found = self.fs.ls(self.path(folder), detail=False)
        except FileNotFoundError:
            return []
        return [f"{folder}/{posixpath.basename(str(path).replace(os.sep, '/'))}" for path in found]

    def get_json(self, name: str) -> Any:
        try:
            with self.fs.open(self.path(name), "rb") as handle:
                return json.loads(handle.read())
        except FileNotFoundError:
            return None

    def _writing(self, name: str) -> Any:
        return _Whole(self, self.path(name))


class _Whole:
    """A file written whole: locally to a temporary name, then renamed; an object store's upload is whole."""

    def __init__(self, store: FileStore, path: str) -> None:
        self.store, self.path = store, path
        self.part = f"{path}.{uuid.uuid4().hex[:12]}.part" if store.local else path

    def __enter__(self) -> Any:
        parent = posixpath.dirname(self.path) if not self.store.local else os.path.dirname(self.path)
        self.store.fs.makedirs(parent, exist_ok=True)
        self.handle = self.store.fs.open(self.part, "wb")
        return self.handle

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if error is not None and not self.store.local and hasattr(self.handle, "discard"):
            self.handle.discard()  # an upload cut short is not committed
            return
        self.handle.close()
        if not self.store.local:
            return
        if error is not None:
            os.unlink(self.part)
            return
        os.replace(self.part, self.path)


def _protocols(fs: Any) -> Iterable[str]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError:
        raise InvalidInput("format", f"writing files needs pyarrow, which is not installed: {FILES_INSTALL}") from None
    return pyarrow
