"""Running an import batch: one transaction for the rows, rejected rows kept with reasons, summary counts.

Each kind of import registers a handler. The handler checks one row at a time and raises
RowRejected for a bad row; good rows go in, bad rows are stored in import_row_errors, and if
anything else goes wrong half way the whole batch rolls back and is marked failed.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from fanzha.audit import exports
from fanzha.audit import service as audit
from fanzha.common import tabular
from fanzha.common.errors import NotFound
from fanzha.config import get_settings
from fanzha.db import session_scope, utcnow
from fanzha.imports.models import ImportBatch, ImportRowError
from fanzha.imports.reader import Columns, FileProblem, RowError, RowStream, error_file_csv, raw_cells, read_rows
from fanzha.org.scope import Scope

log = logging.getLogger(__name__)


class RowRejected(ValueError):
    def __init__(self, column: str, reason: str):
        super().__init__(reason)
        self.column = column
        self.reason = reason


def identity_cells(row: dict[str, object]) -> tuple[str | None, str | None]:
    """身份证号 and 手机号 of an imported row, normalised; a malformed one rejects the row with its reason."""
    from fanzha.common.identity import normalize_id_number, normalize_phone
    from fanzha.imports.values import clean

    out: list[str | None] = []
    for column, normalise in (("身份证号", normalize_id_number), ("手机号", normalize_phone)):
        text = clean(row.get(column))
        try:
            out.append(normalise(text) if text else None)
        except ValueError as exc:
            raise RowRejected(column, str(exc)) from exc
    return out[0], out[1]


@dataclass
class Tally:
    read: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    # Where the created rows went, key → count, for kinds that say so (warnings: station id, "" for 待分配;
    # activities: each campaign id it counts toward, "" for none). A row handler says it by returning
    # ("created", keys); a bulk pipeline fills it itself.
    went: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        return {"read": self.read, "created": self.created, "updated": self.updated,
                "duplicates": self.duplicates, "rejected": self.rejected}

    def record(self) -> str:
        """The summary as the batch keeps it (its message), with where the rows went when known."""
        return json.dumps(self.summary() | ({"went": self.went} if self.went else {}), ensure_ascii=False)


def went_of(message: str) -> dict[str, int]:
    """Tally.went as a finished batch kept it in its message ({} when it kept none)."""
    try:
        return json.loads(message or "{}").get("went") or {}
    except (ValueError, AttributeError):
        return {}


@dataclass
class Destination:
    """One line of an import's result page: where some of its new rows went, with a link there."""

    label: str
    count: int
    link: str = ""  # "" when the reader may not follow it
    link_text: str = "查看"


@dataclass
class Importer:
    """One kind of import: its columns and a row handler returning 'created', 'updated' or 'duplicate' (or
    ('created', keys) to say where the row went: Tally.went)."""

    kind: str
    label: str
    columns: Columns
    make_handler: Callable[[Session, Scope], Callable[[dict[str, object]], str | tuple[str, list[str]]]] | None = None
    template_example: list[list[str]] = field(default_factory=list)
    # Kinds with a pipeline of their own take all rows at once: (session, scope, rows, batch id) → Tally.
    bulk: Callable[..., Tally] | None = None
    permission: str = "manage_addresses"
    # The personal fields its rows carry ("name", "id_number", "phone", "note"): its error file is then a
    # personal-data export (export_personal, audited with these fields).
    personal: tuple[str, ...] = ()
    # Where a finished batch's new rows went, for its result page: (session, scope, batch message) → Destination
    # lines (warnings: per station and 待分配; activities: per campaign and none), under went_head's two headings.
    destinations: Callable[..., list[Destination]] | None = None
    went_head: tuple[str, str] = ("去向", "新增")


IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    IMPORTERS[importer.kind] = importer
    return importer


# How a stored upload is run: handed to the task worker, `queue(batch_id)`. The web app gives the worker's task at
# start-up (fanzha.web.app); the import machinery imports no worker.
_queue: Callable[[int], object] | None = None


def use_queue(queue: Callable[[int], object]) -> None:
    """Run every upload started from now on through `queue(batch_id)`."""
    global _queue
    _queue = queue


def enqueue(batch_id: int) -> None:
    if _queue is None:
        raise RuntimeError("no task queue for imports: the app calls fanzha.imports.service.use_queue at start-up")
    _queue(batch_id)


def store_upload(filename: str, data_path: Path) -> Path:
    folder = get_settings().data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{utcnow():%Y%m%d%H%M%S%f}_{Path(filename).name}"
    shutil.move(str(data_path), target)
    return target


def create_batch(session: Session, scope: Scope, kind: str, filename: str, stored: Path) -> ImportBatch:
    batch = ImportBatch(kind=kind, filename=Path(filename).name[:255], stored_path=str(stored),
                        created_by=scope.user_id, area_id=scope.area_id or None)
    session.add(batch)
    session.flush()
    audit.record(session, scope, "import", kind, batch.id, detail={"filename": batch.filename})
    return batch


def run_file(session: Session, scope: Scope, kind: str, path: Path, batch_id: int | None = None) -> Tally:
    """Reads and applies one file in the caller's transaction. FileProblem for an unreadable file."""
    importer = IMPORTERS[kind]
    _, rows = read_rows(path, importer.columns)
    if importer.bulk is not None:
        return _with_refused(importer.bulk(session, scope, rows, batch_id), rows)
    assert importer.make_handler is not None, "an importer reads its rows in bulk or has a row handler"
    handle = importer.make_handler(session, scope)
    tally = Tally()
    for number, row in rows:
        tally.read += 1
        try:
            with session.begin_nested():
                result = handle(row)
            result, keys = result if isinstance(result, tuple) else (result, [])
            for key in keys:
                tally.went[key] = tally.went.get(key, 0) + 1
        except RowRejected as exc:
            tally.rejected += 1
            tally.errors.append((number, exc.column, exc.reason, {k: _jsonable(v) for k, v in row.items()}))
            continue
        if result == "created":
            tally.created += 1
        elif result == "updated":
            tally.updated += 1
        else:
            tally.duplicates += 1
    return _with_refused(tally, rows)


def _with_refused(tally: Tally, rows: RowStream) -> Tally:
    """The rows the reader refused (a cell over the limit, rows past the row limit) join the importer's."""
    for refused in rows.rejected:
        tally.errors.append(refused)
        if refused[3]:  # a row; the row-limit entry stands for the rest of the file, not one row read
            tally.read += 1
            tally.rejected += 1
    return tally


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, int | float | str | bool):
        return value
    return str(value)


def run_batch(batch_id: int, scope_for: Callable[[Session, ImportBatch], Scope]) -> dict[str, int]:
    """Runs a stored batch (on the worker). Rows commit together or not at all."""
    with session_scope() as session:
        batch = session.get(ImportBatch, batch_id)
        if batch is None or batch.status not in ("pending", "failed"):
            return {}
        batch.status = "running"
    try:
        with session_scope() as session:
            batch = session.get_one(ImportBatch, batch_id)
            tally = run_file(session, scope_for(session, batch), batch.kind, Path(batch.stored_path), batch.id)
            for number, column, reason, raw in tally.errors:
                if len(reason) > 255:  # reasons quote the cell, which may be any length; the column holds 255
                    reason = reason[:254] + "…"
                session.add(ImportRowError(batch_id=batch.id, row_number=number, column=column[:32], reason=reason,
                                           raw=raw_cells(raw)))
            for key, value in tally.summary().items():
                setattr(batch, key, value)
            batch.status = "done"
            batch.finished_at = utcnow()
            batch.message = tally.record()
        return tally.summary()
    except FileProblem as exc:
        _fail(batch_id, str(exc))
        return {}
    except Exception:
        log.exception("import batch %s failed", batch_id)
        _fail(batch_id, "导入过程中出现系统错误，本批次未写入任何数据，请稍后重试或联系管理员")
        raise


def _fail(batch_id: int, message: str) -> None:
    with session_scope() as session:
        batch = session.get_one(ImportBatch, batch_id)
        batch.status = "failed"
        batch.message = message
        batch.finished_at = utcnow()


def get_batch(session: Session, scope: Scope, batch_id: int) -> ImportBatch:
    batch = session.get(ImportBatch, batch_id)
    if batch is None or not (scope.is_system or batch.created_by == scope.user_id or _covers(session, scope, batch)):
        raise NotFound("导入批次不存在或不在您的管辖范围内")
    return batch


def _covers(session: Session, scope: Scope, batch: ImportBatch) -> bool:
    from fanzha.org.models import Area

    if scope.unit_only:  # a member-unit liaison's imports are its own; others on its node are not its unit's
        return False
    area = session.get(Area, batch.area_id) if batch.area_id else None
    return area is not None and area.path.startswith(scope.path)


def _masked(raw: dict[str, object]) -> dict[str, object]:
    from fanzha.common.identity import mask_id_number, mask_phone

    out: dict[str, object] = {}
    for key, value in raw.items():
        text = "" if value is None else str(value)
        if any(word in key for word in ("身份证", "证件")):
            text = mask_id_number(text)
        elif any(word in key for word in ("手机", "电话", "联系方式")):
            text = mask_phone(text)
        out[key] = text
    return out


def error_file(session: Session, scope: Scope, batch_id: int) -> Iterator[bytes]:
    """The rejected rows with reasons. ID numbers and phones stay masked unless the reader may see them in full;
    the file of a kind that carries people is a personal-data export."""
    from fanzha.org.roles import Perm

    batch = get_batch(session, scope, batch_id)
    importer = IMPORTERS.get(batch.kind)
    if not scope.is_system and batch.created_by != scope.user_id and (
            importer is None or not scope.can(Perm(importer.permission))):
        from fanzha.common.errors import NotFound

        raise NotFound("导入批次不存在或不在您的管辖范围内")
    personal = importer.personal if importer else ()
    own = batch.created_by is not None and batch.created_by == scope.user_id
    if personal:
        exports.require(scope, own_upload=own)
    full = scope.can(Perm.PII_FULL)
    count = session.scalar(select(func.count()).select_from(ImportRowError)
                           .where(ImportRowError.batch_id == batch.id)) or 0
    fields = [f for f in personal if full or f not in ("id_number", "phone")]
    if personal:
        exports.record(session, scope, "import_errors", batch.id, fields=fields, rows=count, fmt="csv",
                       detail={"kind": batch.kind, "own_upload": own}, own_upload=own)
    else:
        audit.record(session, scope, "export", "import_errors", batch.id,
                     detail={"rows": count, "format": "csv", "kind": batch.kind})
    first = session.scalar(select(ImportRowError).where(ImportRowError.batch_id == batch.id)
                           .order_by(ImportRowError.row_number, ImportRowError.id).limit(1))
    keys = list(first.raw) if first is not None else []
    return error_file_csv(_error_rows(batch.id, full), keys)


def _error_rows(batch_id: int, full: bool, page: int = 2000) -> Iterator[RowError]:
    """A batch's error rows in row order, read a page at a time in a session of their own: the file streams
    after the request's session has closed (and its audit entry is committed)."""
    from fanzha.db import get_engine

    after = (-1, 0)
    with Session(bind=get_engine()) as session:
        while True:
            page_rows = session.execute(
                select(ImportRowError.row_number, ImportRowError.id, ImportRowError.column, ImportRowError.reason,
                       ImportRowError.raw).where(ImportRowError.batch_id == batch_id,
                                                 tuple_(ImportRowError.row_number, ImportRowError.id) > after)
                .order_by(ImportRowError.row_number, ImportRowError.id).limit(page)).all()
            for number, _, column, reason, raw in page_rows:
                yield number, column, reason, raw if full else _masked(raw)
            if len(page_rows) < page:
                return
            after = (page_rows[-1][0], page_rows[-1][1])


def template_csv(kind: str) -> bytes:
    importer = IMPORTERS[kind]
    return tabular.csv_bytes(list(importer.columns.aliases), importer.template_example)
