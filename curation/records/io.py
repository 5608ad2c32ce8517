"""Streaming, validating, crash-safe reading and writing of records as JSONL (optionally gzipped) and Parquet.

Readers are generators (memory stays flat however big the file) that validate every record and report
problems as ``RecordError``, e.g. ``problems.jsonl, line 12, field answer.items.1.expr: is required``.
Writers never leave a partial file under the final name: they write ``<path>.tmp`` and rename it at the end
(an existing file stays untouched if writing fails). ``JsonlAppender`` is for append-only logs that survive
being killed: each line is flushed and fsynced, and reopening drops a torn last line.

Example::

    write_records("problems.parquet", problems, Problem)
    report = ReadReport()
    for problem in read_records("problems.jsonl", Problem, on_error="collect", report=report):
        ...
    print(*report.errors, sep="\\n")  # problems.jsonl, line 12, field answer.expr: is required
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features

from curation.records import features as rows
from curation.records.answer import FieldError
from curation.records.problem import Problem
from curation.records.result import Response, Result
from curation.records.seed import Seed
from curation.records.trace import Trace

try:  # fcntl is POSIX-only; without it the appender just cannot refuse a second writer.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

Record = Problem | Seed | Trace | Response | Result
R = TypeVar("R", Problem, Seed, Trace, Response, Result)
OnError = Literal["raise", "skip", "collect"]

DEFAULT_ROW_GROUP_SIZE = 1000  # rows; ~100 MB for long reasoning traces, small enough for the Hub viewer
DEFAULT_BATCH_SIZE = 1000  # rows decoded at a time when reading Parquet


@dataclass(frozen=True)
class RecordCodec:
    """How one record type maps to JSON dicts and to rows of its Features."""

    name: str
    features: Features
    from_dict: Callable[[Any, bool], Any]
    to_row: Callable[[Any], dict[str, Any]]
    from_row: Callable[[dict[str, Any], bool], Any]


# check_ids only means something for Problem, whose id is a contract on its content.
CODECS: dict[type, RecordCodec] = {
    Problem: RecordCodec(
        "problem",
        rows.PROBLEM_FEATURES,
        lambda d, check_ids: Problem.from_dict(d, check_id=check_ids),
        rows.problem_to_row,
        lambda row, check_ids: rows.problem_from_row(row, check_id=check_ids),
    ),
    Seed: RecordCodec(
        "seed",
        rows.SEED_FEATURES,
        lambda d, _: Seed.from_dict(d),
        rows.seed_to_row,
        lambda r, _: rows.seed_from_row(r),
    ),
    Trace: RecordCodec(
        "trace",
        rows.TRACE_FEATURES,
        lambda d, _: Trace.from_dict(d),
        rows.trace_to_row,
        lambda r, _: rows.trace_from_row(r),
    ),
    Response: RecordCodec(
        "response",
        rows.RESPONSE_FEATURES,
        lambda d, _: Response.from_dict(d),
        rows.response_to_row,
        lambda r, _: rows.response_from_row(r),
    ),
    Result: RecordCodec(
        "result",
        rows.RESULT_FEATURES,
        lambda d, _: Result.from_dict(d),
        rows.result_to_row,
        lambda r, _: rows.result_from_row(r),
    ),
}
RECORD_TYPES: dict[str, type] = {codec.name: record_type for record_type, codec in CODECS.items()}


def codec_for(record_type: type) -> RecordCodec:
    """The codec of ``record_type`` (Problem, Seed, Trace, Response or Result)."""
    try:
        return CODECS[record_type]
    except (KeyError, TypeError):
        names = ", ".join(t.__name__ for t in CODECS)
        raise ValueError(f"{record_type!r} is not a record type; use one of {names}") from None


def features_for(record_type: type) -> Features:
    """The ``datasets.Features`` that rows of ``record_type`` follow."""
    return codec_for(record_type).features


class RecordError(ValueError):
    """A record that could not be read, located by file, line (or Parquet row, 1-based) and field path."""

    def __init__(
        self, path: str | os.PathLike, line: int | None, field: str | None, message: str, unit: str = "line"
    ):
        self.path = str(path)
        self.line = line
        self.field = field or None
        self.message = message
        self.unit = unit
        where = self.path if line is None else f"{self.path}, {unit} {line}"
        if self.field:
            where += f", field {self.field}"
        super().__init__(f"{where}: {message}")

    def __reduce__(self):
        # Rebuild from the parts, so the error survives pickling (e.g. back from a worker process).
        return (type(self), (self.path, self.line, self.field, self.message, self.unit))


@dataclass
class ReadReport:
    """What a read did: records yielded, bad records skipped, and (with ``on_error="collect"``) their errors."""

    records: int = 0
    skipped: int = 0
    errors: list[RecordError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was skipped."""
        return self.skipped == 0


def _check_read_options(path: str | os.PathLike, on_error: str, report: ReadReport | None) -> Path:
    if on_error not in ("raise", "skip", "collect"):
        raise ValueError(f"on_error must be 'raise', 'skip' or 'collect', got {on_error!r}")
    if on_error == "collect" and report is None:
        raise ValueError("on_error='collect' needs report=ReadReport() to collect the errors into")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return path


def _handle(error: RecordError, on_error: str, report: ReadReport | None) -> None:
    """Raise, or count (and keep) a bad record, as ``on_error`` says."""
    if on_error == "raise":
        raise error
    if report is not None:
        report.skipped += 1
        if on_error == "collect":
            report.errors.append(error)
    if on_error == "skip":
        logger.warning("skipped: %s", error)


def _decode_error(path: Path, number: int, exc: Exception, unit: str) -> RecordError:
    if isinstance(exc, FieldError):
        return RecordError(path, number, exc.path, exc.message, unit)
    return RecordError(path, number, None, f"malformed: {exc}", unit)


def _is_gzip(path: Path) -> bool:
    return path.name.endswith(".gz")


def read_jsonl(
    path: str | os.PathLike,
    record_type: type[R],
    *,
    on_error: OnError = "raise",
    report: ReadReport | None = None,
    check_ids: bool = True,
) -> Iterator[R]:
    """Yield validated records from a JSONL file (``.jsonl.gz`` too), one line at a time; blank lines skipped.

    ``on_error``: ``"raise"`` stops at the first bad line, ``"skip"`` logs and skips it, ``"collect"`` skips
    it and appends its RecordError to ``report.errors``. ``check_ids=False`` accepts Problem ids that do not
    match their content.
    """
    codec = codec_for(record_type)
    path = _check_read_options(path, on_error, report)
    return _read_jsonl(path, codec, on_error, report, check_ids)


def _decode_line(path: Path, number: int, raw: bytes, codec: RecordCodec, check_ids: bool) -> Any:
    """The record on one JSONL line; a RecordError naming the line (and field) when it is not one."""
    d = _json_value(path, number, raw)
    try:
        return codec.from_dict(d, check_ids)
    except (FieldError, ValueError, TypeError, KeyError) as exc:
        raise _decode_error(path, number, exc, "line") from None


def _json_value(path: Path, number: int, raw: bytes) -> Any:
    """The JSON value on one line; a RecordError naming the line when it is not valid UTF-8 JSON."""
    try:
        text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(path, number, None, f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"not valid JSON ({exc.msg} at column {exc.colno})"
        if not raw.endswith(b"\n"):
            message += "; the file ends mid-line, as when a writer is killed while appending"
        raise RecordError(path, number, None, message) from None
    return d


def read_json_lines(path: str | os.PathLike) -> Iterator[tuple[int, Any]]:
    """``(line number, JSON value)`` for each non-blank line of a JSONL file (for layouts that are not records)."""
    path = Path(path)
    opener = gzip.open if _is_gzip(path) else open
    with opener(path, "rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if raw.strip():
                yield number, _json_value(path, number, raw)


def _read_jsonl(
    path: Path, codec: RecordCodec, on_error: str, report: ReadReport | None, check_ids: bool
) -> Iterator:
    opener = gzip.open if _is_gzip(path) else open
    # Binary lines: a line is split on b"\n" only, and a bad byte sequence is reported with its line number.
    with opener(path, "rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                record = _decode_line(path, number, raw, codec, check_ids)
            except RecordError as error:
                _handle(error, on_error, report)
                continue
            if report is not None:
                report.records += 1
            yield record


def read_parquet(
    path: str | os.PathLike,
    record_type: type[R],
    *,
    on_error: OnError = "raise",
    report: ReadReport | None = None,
    check_ids: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[R]:
    """Yield validated records from a Parquet file, ``batch_size`` rows at a time (memory stays flat).

    Errors name the row, counted from 1; ``on_error``, ``report`` and ``check_ids`` as for ``read_jsonl``.
    """
    codec = codec_for(record_type)
    path = _check_read_options(path, on_error, report)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return _read_parquet(path, codec, on_error, report, check_ids, batch_size)


def _read_parquet(
    path: Path, codec: RecordCodec, on_error: str, report: ReadReport | None, check_ids: bool, batch_size: int
) -> Iterator:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise RecordError(path, None, None, f"not a readable Parquet file ({exc})") from None
    with parquet:
        missing = [name for name in codec.features if name not in parquet.schema_arrow.names]
        if missing:
            raise RecordError(
                path,
                None,
                None,
                f"has no column(s) {', '.join(missing)}: not a {codec.name} file written by write_parquet",
            )
        number = 0
        for batch in parquet.iter_batches(batch_size=batch_size, columns=list(codec.features)):
            for row in batch.to_pylist():
                number += 1
                try:
                    record = codec.from_row(row, check_ids)
                except (FieldError, ValueError, TypeError, KeyError) as exc:
                    _handle(_decode_error(path, number, exc, "row"), on_error, report)
                    continue
                if report is not None:
                    report.records += 1
                yield record


def _tmp_path(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def _fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(tmp: Path, path: Path) -> None:
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _dumps(record: Any) -> str:
    return json.dumps(record.to_dict() if hasattr(record, "to_dict") else record, ensure_ascii=False)


def write_jsonl(path: str | os.PathLike, records: Iterable[Record]) -> int:
    """Write records one per line (gzipped for ``.jsonl.gz``) atomically; returns how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    count = 0
    try:
        with open(tmp, "wb") as raw:
            # mtime=0 and no file name in the gzip header: the same records give the same bytes.
            compressed = (
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if _is_gzip(path) else None
            )
            with compressed or contextlib.nullcontext():
                out: IO[bytes] = compressed or raw
                for record in records:
                    out.write((_dumps(record) + "\n").encode("utf-8"))
                    count += 1
            raw.flush()
            os.fsync(raw.fileno())
        _publish(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def write_parquet(
    path: str | os.PathLike,
    records: Iterable[Record],
    record_type: type,
    *,
    row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
) -> int:
    """Write records as Parquet (zstd, the Features' schema and HF metadata) streaming one row group at a
    time, atomically; returns how many were written."""
    codec = codec_for(record_type)
    if row_group_size < 1:
        raise ValueError(f"row_group_size must be >= 1, got {row_group_size}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    # Features.arrow_schema carries the "huggingface" metadata, so datasets restores these exact Features.
    schema = codec.features.arrow_schema
    count = 0
    buffer: list[dict[str, Any]] = []

    def flush() -> None:
        try:
            table = pa.Table.from_pylist(buffer, schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            first = count - len(buffer) + 1
            raise ValueError(
                f"{path}: records {first}-{count} do not fit the {codec.name} schema: {exc}"
            ) from exc
        writer.write_table(table, row_group_size=row_group_size)
        buffer.clear()

    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for record in records:
                if not isinstance(record, record_type):
                    raise TypeError(
                        f"{path}: record {count + 1} is a {type(record).__name__}, not a {codec.name}"
                    )
                buffer.append(codec.to_row(record))
                count += 1
                if len(buffer) >= row_group_size:
                    flush()
            if buffer:
                flush()
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        _publish(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def _format(path: Path) -> str:
    name = path.name
    if name.endswith(".jsonl") or name.endswith(".jsonl.gz"):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    raise ValueError(f"{path}: unknown record file type; name it .jsonl, .jsonl.gz or .parquet")


def read_records(
    path: str | os.PathLike,
    record_type: type[R],
    *,
    on_error: OnError = "raise",
    report: ReadReport | None = None,
    check_ids: bool = True,
) -> Iterator[R]:
    """``read_jsonl`` or ``read_parquet``, chosen by the file name's suffix."""
    if _format(Path(path)) == "parquet":
        return read_parquet(path, record_type, on_error=on_error, report=report, check_ids=check_ids)
    return read_jsonl(path, record_type, on_error=on_error, report=report, check_ids=check_ids)


def write_records(
    path: str | os.PathLike, records: Iterable[Record], record_type: type, **options: Any
) -> int:
    """``write_jsonl`` or ``write_parquet`` (``options``: ``row_group_size``), chosen by the suffix."""
    if _format(Path(path)) == "parquet":
        return write_parquet(path, records, record_type, **options)
    if options:
        raise TypeError(f"{path}: JSONL takes no options, got {sorted(options)}")
    return write_jsonl(path, records)


class JsonlAppender:
    """An append-only JSONL log that survives being killed: every line is flushed and (by default) fsynced,
    and opening it drops a torn last line left by a writer that died mid-write.

    Example::

        with JsonlAppender("out/traces.log.jsonl") as log:
            log.append(trace)
    """

    def __init__(self, path: str | os.PathLike, *, fsync: bool = True):
        self.path = Path(path)
        if _is_gzip(self.path):
            raise ValueError(f"{self.path}: cannot append to gzip; use a plain .jsonl log")
        self.fsync = fsync
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        self._file = open(self.path, "a+b")  # closed in close()
        try:
            self._lock()
            self.dropped_bytes = self._drop_torn_line()
            self._end = self._file.seek(0, os.SEEK_END)
        except BaseException:
            self._file.close()
            raise
        if created:
            _fsync_dir(self.path.parent)

    def _lock(self) -> None:
        if fcntl is None:  # pragma: no cover
            return
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"{self.path}: another process is appending to this log") from None

    def _drop_torn_line(self) -> int:
        """Truncate after the last newline; returns how many bytes of a torn line were dropped."""
        f = self._file
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        end = size
        chunk = 1 << 16
        while end > 0:
            start = max(0, end - chunk)
            f.seek(start)
            block = f.read(end - start)
            if end == size and block.endswith(b"\n"):
                return 0
            newline = block.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            end = start
        else:
            keep = 0
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
        logger.warning(
            "%s: dropped a torn last line (%d bytes) left by an interrupted writer", self.path, size - keep
        )
        return size - keep

    def append(self, record: Record | dict[str, Any]) -> int:
        """Write one record (or plain dict) as a line (one unbuffered write, so it is in the OS when this
        returns) and fsync it if asked; returns the line's offset."""
        data = (_dumps(record) + "\n").encode("utf-8")
        offset = self._end
        view = memoryview(data)
        while view:  # O_APPEND: every write lands at the end; a short write is continued
            written = os.write(self._file.fileno(), view)
            view = view[written:]
        self._end += len(data)
        if self.fsync:
            os.fsync(self._file.fileno())
        return offset

    def close(self) -> None:
        """Close the log (and release the lock)."""
        self._file.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
