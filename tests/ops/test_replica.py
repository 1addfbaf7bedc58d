"""The read replica (只读副本, docs/deploy.md): statistics read from a real PostgreSQL streaming replica of the test
server, made once with pg_basebackup -R and started on a free port; writes stay on the primary, the lag note shows
while replay is paused, and a stopped replica sends the reading to the primary instead of failing the page.

On SQLite the setting is refused (there are no replicas to read)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, select, text
from sqlalchemy.engine import make_url

from support.db import PG_BASE
from support.net import free_port

REPLICA_GROUP = pytest.mark.xdist_group("replica")  # one replica for the tests that need it, on one worker
WAIT = 60  # seconds a wait for the replica (start, replay) may take before the test fails


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: the server and its tools run as the postgres account then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _bin_dir(version_num: int) -> Path:
    path = Path(f"/usr/lib/postgresql/{version_num // 10000}/bin")
    assert (path / "pg_ctl").exists(), f"pg_ctl of PostgreSQL {version_num // 10000} not found in {path}"
    return path


def _lsn(conn, expr: str) -> int:
    hi, lo = conn.execute(text(f"SELECT CAST({expr} AS text)")).scalar_one().split("/")
    return (int(hi, 16) << 32) + int(lo, 16)


class Replica:
    """A hot standby of the test server: its URL for the worker's database, and waits on its replay."""

    def __init__(self, url: str, bin_dir: Path, data: Path):
        self.url, self.bin_dir, self.data = url, bin_dir, data
        self.engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")

    def run(self, sql: str):
        with self.engine.connect() as conn:
            return conn.execute(text(sql)).scalar()

    def wait_for(self, column: str, position: int) -> None:
        """Until the replica's `column` (pg_last_wal_receive_lsn / pg_last_wal_replay_lsn) reaches `position`."""
        deadline = time.monotonic() + WAIT
        while True:
            with self.engine.connect() as conn:
                if _lsn(conn, f"{column}()") >= position:
                    return
            assert time.monotonic() < deadline, f"the replica's {column} did not reach the primary's position"
            time.sleep(0.05)

    def pg_ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(_as_postgres([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args]),
                              capture_output=True, text=True, timeout=WAIT + 30)


def _primary_position() -> int:
    from fanzha.db import get_engine

    with get_engine().connect() as conn:
        return _lsn(conn, "pg_current_wal_lsn()")


@pytest.fixture(scope="module")
def replica(database):
    """A streaming replica of the test server (this worker's database included), stopped and removed at the end."""
    primary = make_url(PG_BASE)
    with create_engine(make_url(database).set(drivername="postgresql+psycopg")).connect() as conn:
        version = int(conn.execute(text("SHOW server_version_num")).scalar_one())
        # A standby must allow at least what the primary does, or it stops replaying.
        same = "".join(f"{name} = {conn.execute(text(f'SHOW {name}')).scalar_one()}\n" for name in (
            "max_connections", "max_worker_processes", "max_wal_senders", "max_prepared_transactions",
            "max_locks_per_transaction"))
    bin_dir = _bin_dir(version)
    home = Path(tempfile.mkdtemp(prefix="fanzha-replica-"))
    data = home / "data"
    made = None
    try:  # removed whatever happens, a failed start included
        if os.geteuid() == 0:
            shutil.chown(home, "postgres", "postgres")
        env = {**os.environ, "PGPASSWORD": primary.password or ""}
        backup = subprocess.run(_as_postgres([
            str(bin_dir / "pg_basebackup"), "-h", primary.host or "127.0.0.1", "-p", str(primary.port or 5432),
            "-U", primary.username or "postgres", "-D", str(data), "-X", "stream", "-R", "-c", "fast", "--no-sync"]),
            env=env, capture_output=True, text=True, timeout=300)
        assert backup.returncode == 0, f"pg_basebackup failed (pg_hba's replication line?): {backup.stderr}"
        port = free_port()
        # Debian keeps the server's configuration in /etc: the copy gets its own, small and not durable.
        (data / "postgresql.conf").write_text(
            f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{home}'\nhot_standby = on\n"
            "fsync = off\nshared_buffers = 32MB\nlogging_collector = off\nhot_standby_feedback = on\n" + same,
            encoding="utf-8")
        (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n", encoding="utf-8")
        (data / "pg_ident.conf").write_text("", encoding="utf-8")
        if os.geteuid() == 0:
            for path in (data / "postgresql.conf", data / "pg_hba.conf", data / "pg_ident.conf"):
                shutil.chown(path, "postgres", "postgres")
        data.chmod(0o700)
        url = str(make_url(database).set(drivername="postgresql", port=port, password=None))
        made = Replica(url, bin_dir, data)
        started = made.pg_ctl("-l", str(home / "server.log"), "-w", "-t", str(WAIT), "start")
        assert started.returncode == 0, f"the replica did not start: {started.stderr}\n{_log(home)}"
        made.wait_for("pg_last_wal_replay_lsn", _primary_position())
        yield made
    finally:
        if made is not None:
            made.engine.dispose()
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                           capture_output=True, timeout=WAIT)
        shutil.rmtree(home, ignore_errors=True)


def _log(home: Path) -> str:
    log = home / "server.log"
    return log.read_text(errors="replace")[-2000:] if log.exists() else ""


@pytest.fixture
def on_replica(replica, monkeypatch):
    """The app reads statistics from the replica for one test (FANZHA_DATABASE_REPLICA_URL), then from the primary."""
    from fanzha.config import get_settings
    from fanzha.db import reset_read_caches
    from fanzha.web import replica as read

    def put(**values):
        for key, value in values.items():
            monkeypatch.setenv(f"FANZHA_{key.upper()}", str(value))
        get_settings.cache_clear()
        reset_read_caches()
        read.reset()

    put(database_replica_url=replica.url, replica_lag_note_seconds=600, replica_retry_seconds=600)
    yield put
    monkeypatch.undo()
    get_settings.cache_clear()
    reset_read_caches()
    read.reset()


def _yesterday() -> tuple:
    """Yesterday's moment and its local day as a period (2026-12-06)."""
    from fanzha.common.timefmt import local
    from fanzha.db import utcnow

    at = utcnow() - timedelta(days=1)
    return at, local(at).date().isoformat()


@pytest.fixture
def new_case():
    """Adds a case (filed yesterday on a demo village) on the primary when called; removed at the end."""
    from fanzha.cases.models import Case
    from fanzha.db import session_scope
    from fanzha.org.models import Area

    made = []

    def add() -> str:
        at, day = _yesterday()
        with session_scope() as s:
            leaf = s.scalar(select(Area).where(Area.level == "community", Area.chain == "admin").order_by(Area.id))
            s.add(Case(case_number=f"RP-{len(made) + 1}", name="张某", community_id=leaf.id, filed_at=at,
                       loss_at=at - timedelta(hours=3), fraud_type="brushing", loss_amount=Decimal("955000")))
        made.append(f"RP-{len(made) + 1}")
        return day

    yield add
    with session_scope() as s:
        s.execute(delete(Case).where(Case.case_number.in_(made)))


def _cases(api, day: str) -> int:
    r = api.get("/api/v1/cases/stats", params={"period": day})
    assert r.status_code == 200, r.text
    return r.json()["totals"]["cases"]


@pytest.mark.postgres_pass
@REPLICA_GROUP
def test_statistics_read_the_replica_a_paused_replica_shows_its_lag_and_catches_up(on_replica, replica, new_case,
                                                                                    api_as, client_as):
    on_replica(replica_lag_note_seconds=0)  # any lag at all shows the note
    api, page = api_as("yanpan"), client_as("yanpan")
    _, day = _yesterday()
    before = _cases(api, day)
    journal = replica.run("SELECT count(*) FROM case_stat_journal")  # changes not yet folded into the cells

    replica.run("SELECT pg_wal_replay_pause()")
    try:
        new_case()
        replica.wait_for("pg_last_wal_receive_lsn", _primary_position())  # received, not replayed
        # Served from the replica: the case the primary holds is not counted yet, and the page says why.
        assert _cases(api, day) == before
        answered = api.get("/api/v1/cases/stats", params={"period": day}).headers
        assert answered["x-fanzha-read-from"] == "replica" and int(answered["x-fanzha-replica-lag-seconds"]) >= 1
        assert replica.run("SELECT count(*) FROM case_stat_journal") == journal  # nothing of it replayed yet
        shown = page.get("/cases/stats", params={"period": day})
        assert shown.status_code == 200
        assert "统计数据来自只读副本，约滞后" in shown.text
        metrics_page = page.get("/metrics")
        assert metrics_page.status_code == 200 and "统计数据来自只读副本，约滞后" in metrics_page.text
        assert page.get("/map").status_code == 200
        assert api.get("/api/v1/screen").status_code == 200
        bulletin = page.get("/reports/bulletin", params={"period": day})
        assert bulletin.status_code == 200 and "统计数据来自只读副本" in bulletin.text
        draft = page.get("/reports/bulletin/draft", params={"period": day, "fmt": "docx"})
        assert draft.status_code == 200 and draft.content[:2] == b"PK"  # a DOCX drafted from the replica
        behind = page.get("/cases/stats/cases", params={"period": day})
        assert behind.status_code == 200 and "统计数据来自只读副本" in behind.text
    finally:
        replica.run("SELECT pg_wal_replay_resume()")

    replica.wait_for("pg_last_wal_replay_lsn", _primary_position())
    # Counted from the journal the replica cannot fold (the primary has not folded it either: nobody read there).
    assert replica.run("SELECT count(*) FROM case_stat_journal") > journal
    assert _cases(api, day) == before + 1
    on_replica(replica_lag_note_seconds=600)
    assert "统计数据来自只读副本" not in page.get("/cases/stats", params={"period": day}).text
    # Pages that write or read their own writes stay on the primary: the register lists at once what is issued.
    assert "统计数据来自只读副本" not in page.get("/reports").text


@pytest.mark.postgres_pass
@REPLICA_GROUP
def test_a_write_through_a_read_session_fails_and_a_viewing_is_audited_on_the_primary(on_replica, replica, api_as,
                                                                                      db):
    from sqlalchemy.exc import DBAPIError

    from fanzha.db import get_read_sessionmaker, session_scope, writer_of
    from fanzha.trail.models import AuditEntry
    from fanzha.web.replica import lag_seconds, open_read

    with session_scope() as primary:
        read, lag, on_standby = open_read(primary)
        try:
            assert on_standby and lag is not None and writer_of(read) is primary
            assert read.scalar(text("SELECT pg_is_in_recovery()")) is True
            # Behind only while the primary's position is not replayed: an old replay time alone (an idle
            # primary) is no lag; a position not yet replayed is behind by the age of the last replayed change.
            assert lag_seconds(read, "0/0") == 0.0
            assert lag_seconds(read, "FFFFFFFF/0") > 0
            with pytest.raises(DBAPIError, match="read-only transaction"):
                read.execute(text("UPDATE areas SET name = name WHERE id = -1"))
        finally:
            read.close()
    # The primary's own read sessions (used while the replica is away) refuse writes as well.
    fallback = get_read_sessionmaker(replica=False)()
    try:
        assert fallback.scalar(text("SELECT pg_is_in_recovery()")) is False
        with pytest.raises(DBAPIError, match="read-only transaction"):
            fallback.execute(text("UPDATE areas SET name = name WHERE id = -1"))
    finally:
        fallback.close()

    # The cases behind a figure are read from the replica; their viewing is recorded on the primary.
    last = db.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    r = api_as("yanpan").get("/api/v1/cases/stats/cases", params={"period": "2026"})
    assert r.status_code == 200, r.text
    db.expire_all()
    viewed = db.scalars(select(AuditEntry).where(AuditEntry.id > last, AuditEntry.action == "view",
                                                 AuditEntry.entity == "case")).all()
    assert len(viewed) == 1 and viewed[0].username == "yanpan"
    assert viewed[0].detail["ids"] == [c["id"] for c in r.json()["cases"]]


@pytest.mark.postgres_pass
@REPLICA_GROUP
def test_metrics_figures_agree_on_the_replica_and_the_primary(on_replica, replica):
    """The 指标 figures cannot refresh their daily roll-up on a replica: they count from the warnings there when
    the roll-up has days waiting, and are the primary's figures either way."""
    from fanzha.db import get_read_sessionmaker, session_scope, utcnow
    from fanzha.org.scope import Scope
    from fanzha.warnings import metrics

    now = utcnow()
    since, until = metrics.period("2026-01-01", "2026-11-30")
    with session_scope() as s:
        # A changed warning's hour, logged as the triggers log it, inside the period.
        s.execute(text("INSERT INTO warning_days_dirty (hour) VALUES ('2026-06-15 02:00:00')"))
    replica.wait_for("pg_last_wal_replay_lsn", _primary_position())
    read = get_read_sessionmaker()()
    try:
        scope = Scope.system(read)
        assert not metrics.rollup_current(read, *metrics._whole_days(since, until), metrics._offset(since))
        on_copy = metrics.overview(read, scope, since=since, until=until, now=now).report
    finally:
        read.close()
    with session_scope() as s:
        on_primary = metrics.overview(s, Scope.system(s), since=since, until=until, now=now).report
    assert on_copy.warnings == on_primary.warnings > 0
    assert on_copy == on_primary


@pytest.mark.postgres_pass
@REPLICA_GROUP
def test_exports_read_the_replica_and_count_and_audit_on_the_primary(on_replica, replica, new_case, client_as, db):
    """导出 Excel of the case register and the warning board read the replica; the export's audit entry and the
    count of a search by full number (limited per hour) are written on the primary."""
    import io

    from openpyxl import load_workbook

    from fanzha.auth.models import Throttle
    from fanzha.org.models import User
    from fanzha.trail.models import AuditEntry

    admin = client_as("admin")
    last = db.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    replica.run("SELECT pg_wal_replay_pause()")
    try:
        new_case()
        replica.wait_for("pg_last_wal_receive_lsn", _primary_position())
        r = admin.get("/cases.xlsx", params={"q": "RP-1"})
        assert r.status_code == 200, r.text
        cells = [c for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True) for c in row]
        assert "RP-1" not in cells  # the replica has not replayed the case yet
        assert admin.get("/warnings.xlsx", params={"q": "13800138000"}).status_code == 200
    finally:
        replica.run("SELECT pg_wal_replay_resume()")
    db.expire_all()
    written = db.scalars(select(AuditEntry).where(AuditEntry.id > last, AuditEntry.username == "admin")).all()
    assert {(e.action, e.entity) for e in written} >= {("export", "case"), ("export", "warning"),
                                                       ("lookup", "warning")}
    admin_id = db.scalar(select(User.id).where(User.username == "admin"))
    assert db.scalar(select(Throttle.count).where(Throttle.bucket == "lookup", Throttle.key == str(admin_id))) >= 1
    replica.wait_for("pg_last_wal_replay_lsn", _primary_position())
    r = admin.get("/cases.xlsx", params={"q": "RP-1"})
    assert "RP-1" in [c for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True) for c in row]


@pytest.mark.postgres_pass
@REPLICA_GROUP
def test_a_stopped_replica_sends_readings_to_the_primary_logged_and_counted(on_replica, replica, new_case, api_as,
                                                                            client_as, caplog):
    """Last of the replica tests: it stops the replica."""
    from fanzha.web.metrics import REGISTRY

    def fallbacks() -> float:
        return REGISTRY.get_sample_value("fanzha_replica_fallbacks_total") or 0.0

    on_replica(metrics_token="t0ken")
    day = new_case()
    api = api_as("yanpan")
    stopped = replica.pg_ctl("-m", "fast", "-w", "stop")
    assert stopped.returncode == 0, stopped.stderr
    counted = fallbacks()
    with caplog.at_level("WARNING", logger="fanzha.web.replica"):
        assert _cases(api, day) >= 1  # the primary answered, with the case it holds
        page = client_as("yanpan").get("/cases/stats", params={"period": day})
    assert page.status_code == 200 and "统计数据来自只读副本" not in page.text
    assert [r for r in caplog.records if "read replica unreachable" in r.getMessage()]
    assert fallbacks() == counted + 2  # both readings, though only the first tried the replica
    assert api.get("/api/v1/cases/stats", params={"period": day}).headers["x-fanzha-read-from"] == "primary"
    scraped = client_as("yanpan").get("/-/metrics", headers={"Authorization": "Bearer t0ken"}).text
    assert f"fanzha_replica_fallbacks_total {fallbacks()}" in scraped
    ready = api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["replica"].startswith("只读副本无法连接")


def test_the_replica_setting_is_refused_beside_sqlite():
    from pydantic import ValidationError

    from fanzha.config import Settings

    with pytest.raises(ValidationError, match="SQLite 没有只读副本"):
        Settings(database_url="", database_replica_url="postgresql://reader@10.0.0.2/fanzha")
    with pytest.raises(ValidationError, match="SQLite 没有只读副本"):
        Settings(database_url="sqlite:///var/fanzha.db", database_replica_url="postgresql://reader@10.0.0.2/fanzha")
    with pytest.raises(ValidationError, match="PostgreSQL 只读副本的地址"):
        Settings(database_url="postgresql://app@10.0.0.1/fanzha", database_replica_url="sqlite:///copy.db")
    assert Settings(database_url="postgresql://app@10.0.0.1/fanzha",
                    database_replica_url="postgresql://reader@10.0.0.2/fanzha").database_replica_url


@pytest.mark.postgres_pass
def test_the_worker_folds_the_case_stats_journal_the_replica_cannot_fold(new_case):
    """With statistics read on the replica nobody folds on the primary: the worker's minute task keeps the journal
    (which every replica reading adds up) short."""
    from fanzha.db import get_engine
    from fanzha.worker.tasks import fold_case_stats

    new_case()
    with get_engine().connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM case_stat_journal")) > 0
    fold_case_stats.call_local()
    with get_engine().connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM case_stat_journal")) == 0


def test_the_lag_note_says_how_far_behind_in_seconds_or_minutes_and_only_past_the_threshold():
    from fanzha.web.replica import note

    assert note(0.0, 0) == "" and note(29.9, 30) == ""
    assert note(30.2, 30) == "统计数据来自只读副本，约滞后 31 秒，最新的变动可能还未计入"
    assert "约滞后 10 分钟" in note(600, 30)
    assert note(None, 30) == "统计数据来自只读副本，副本尚在追赶主库，最新的变动可能还未计入"
