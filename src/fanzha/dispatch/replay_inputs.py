"""What the replay simulator (dispatch/simulate.py) reads: a warnings file and a roster file (CSV, UTF-8 or GBK, or
XLSX, through imports/reader.py and the warning intake's column aliases), or the platform's own records.

A bad row stops the reading with an error naming the row and the column (行 12：预警时间 无法识别的时间：…), so a
replay never runs on a silently shortened file.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fanzha.dispatch.simulate import Shift, SimWarning
from fanzha.imports.reader import Columns, FileProblem, read_rows
from fanzha.imports.service import RowRejected
from fanzha.imports.values import clean, parse_datetime
from fanzha.warnings import intake, triage
from fanzha.warnings.enums import GRADE_ALIASES, KIND_ALIASES, KINDS, lookup

STATION_COLUMN = "派出所"
ADDRESS_COLUMNS = ("现住址", "户籍地址")
WARNING_COLUMNS = Columns(
    aliases={**intake.COLUMNS.aliases,
             STATION_COLUMN: ("派出所代码", "派出所编码", "所属派出所", "管辖派出所", "派出所编号")},
    required=("预警编号", "预警类型", "预警时间"),
)
STAFF_COLUMNS = Columns(
    aliases={
        STATION_COLUMN: ("派出所代码", "派出所编码", "所属派出所", "单位"),
        "劝阻员": ("姓名", "值班人员", "劝阻人员", "民警"),
        "上班": ("上班时间", "开始时间", "开始", "班次开始"),
        "下班": ("下班时间", "结束时间", "结束", "班次结束"),
        "分局": ("所属分局", "上级单位", "分组"),
    },
    required=(STATION_COLUMN, "劝阻员", "上班", "下班"),
)
_HHMM = re.compile(r"(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?")


class ReplayInputError(ValueError):
    """A replay file cannot be used; the message names the file's row and column when one is at fault."""


def _row_error(number: int, column: str, reason: str) -> ReplayInputError:
    reason = reason if reason.startswith(column) else f"{column} {reason}"
    return ReplayInputError(f"行 {number}：{reason}")


def _rows(path: Path, columns: Columns):
    try:
        written, stream = read_rows(Path(path), columns)
    except FileProblem as exc:
        raise ReplayInputError(f"{Path(path).name}：{exc}") from exc
    for number, row in stream:
        yield written, number, row
    if stream.rejected:
        number, column, reason, _ = stream.rejected[0]
        raise _row_error(number, column, reason)


def _kind(row: dict) -> str:
    text = clean(row.get("预警类型"))
    kind = lookup(KIND_ALIASES, text) if text else None
    if kind is None and text in KINDS:
        kind = text
    if kind is None:
        raise RowRejected("预警类型", f"未知的预警类型“{text}”" if text else "为空")
    return kind


def _grade(row: dict) -> str | None:
    text = clean(row.get("预警级别"))
    if not text:
        return None
    grade = GRADE_ALIASES.get(text.lower()) or GRADE_ALIASES.get(text.rstrip("级"))
    if grade is None:
        raise RowRejected("预警级别", f"未知的预警级别“{text}”（应为 高/中/低）")
    return grade


def _warning(row: dict, station: str) -> SimWarning:
    external_id = clean(row.get("预警编号"))
    if not external_id:
        raise RowRejected("预警编号", "为空")
    kind = _kind(row)
    upstream = _grade(row)
    try:
        warned_at = parse_datetime(row.get("预警时间"))
    except ValueError as exc:
        raise RowRejected("预警时间", str(exc)) from exc
    amount = intake._amount(row.get("拟转账金额"))
    verdict = triage.grade(triage.Facts(kind=kind, upstream_grade=upstream, amount=amount))
    due = triage.deadlines(verdict.grade, warned_at, verdict.face_required, None).contact
    return SimWarning(id=external_id, warned_at=warned_at, grade=verdict.grade, kind=kind, station=station,
                      amount=float(amount) if amount is not None else None, face=verdict.face_required,
                      contact_due=due)


def read_warnings(path: Path, session=None) -> list[SimWarning]:
    """The warnings of a provincial export. The grade is 预警级别 when given, raised by triage's rules (amount);
    without it, triage's grade for the kind. 见面 by triage's face_to_face rule, the first-contact deadline by
    triage's deadlines. Each row needs 派出所 (the station's code); without that column, a `session` lets the
    platform's address matcher place 现住址 (else 户籍地址) at a station."""
    out: list[SimWarning] = []
    seen: dict[str, int] = {}
    place = None
    for written, number, row in _rows(path, WARNING_COLUMNS):
        if place is None:
            place = _placer(written, session)
        try:
            station = place(row)
            w = _warning(row, station)
        except RowRejected as exc:
            raise _row_error(number, exc.column, exc.reason) from exc
        if w.id in seen:
            raise _row_error(number, "预警编号", f"与第 {seen[w.id]} 行重复：{w.id}")
        seen[w.id] = number
        out.append(w)
    if not out:
        raise ReplayInputError(f"{Path(path).name}：没有预警数据行")
    return out


def _placer(written: dict, session):
    if STATION_COLUMN in written:
        def by_code(row: dict) -> str:
            code = clean(row.get(STATION_COLUMN))
            if not code:
                raise RowRejected(STATION_COLUMN, "为空（应为派出所代码）")
            return code
        return by_code
    addresses = [c for c in ADDRESS_COLUMNS if c in written]
    if not addresses:
        raise ReplayInputError("缺少“派出所”列（派出所代码），也没有可供匹配的地址列（现住址、户籍地址）")
    if session is None:
        raise ReplayInputError("缺少“派出所”列（派出所代码）：按地址匹配派出所需要平台数据库，"
                               "请加上 --match-addresses（使用已配置的数据库）或在文件中补上派出所代码")
    from sqlalchemy import select

    from fanzha.addresses.service import AddressMatcher
    from fanzha.org.models import Area
    from fanzha.warnings.dispatch import station_of_communities

    matcher = AddressMatcher(session)
    stations = station_of_communities(session)
    codes = dict(session.execute(select(Area.id, Area.code)).all())

    def by_address(row: dict) -> str:
        for column in addresses:
            text = clean(row.get(column))
            community = matcher.match(text) if text else None
            if community is not None and community in stations:
                return codes[stations[community]]
        raise RowRejected(addresses[0], "无法匹配到派出所（地址不在标准地址中）")
    return by_address


def _clock(value: object) -> time:
    if isinstance(value, datetime):
        return value.time().replace(microsecond=0)
    if isinstance(value, time):
        return value.replace(microsecond=0)
    if isinstance(value, float | int) and not isinstance(value, bool) and 0 <= value < 1:  # Excel's fraction of a day
        minutes = round(value * 1440)
        return time(minutes // 60 % 24, minutes % 60)
    text = clean(value)
    m = _HHMM.fullmatch(text)
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59:
        raise ValueError(f"无法识别的时间“{text}”（应为 HH:MM，如 08:00）" if text else "为空（应为 HH:MM）")
    hour = int(m.group(1))
    if hour == 24 and int(m.group(2)) == 0:
        return time(0, 0)
    if hour == 24:
        raise ValueError(f"无法识别的时间“{text}”（应为 HH:MM，如 08:00）")
    return time(hour, int(m.group(2)))


def read_staff(path: Path) -> list[Shift]:
    """The roster: one row per shift, 派出所 (code), 劝阻员, 上班, 下班 (HH:MM local, daily; 下班 at or before 上班
    crosses midnight, equal times mean all day)."""
    out = []
    for _, number, row in _rows(path, STAFF_COLUMNS):
        cells = {c: clean(row.get(c)) for c in (STATION_COLUMN, "劝阻员")}
        for column, text in cells.items():
            if not text:
                raise _row_error(number, column, "为空")
        times = {}
        for column in ("上班", "下班"):
            try:
                times[column] = _clock(row.get(column))
            except ValueError as exc:
                raise _row_error(number, column, str(exc)) from exc
        out.append(Shift(cells[STATION_COLUMN], cells["劝阻员"], times["上班"], times["下班"]))
    if not out:
        raise ReplayInputError(f"{Path(path).name}：没有排班数据行")
    return out


def read_siblings(path: Path) -> dict[str, str] | None:
    """station → group from the roster file's optional 分局 column (help only within a group); None without it."""
    out: dict[str, str] = {}
    has_column = False
    for written, number, row in _rows(path, STAFF_COLUMNS):
        if "分局" not in written:
            return None
        has_column = True
        station, group = clean(row.get(STATION_COLUMN)), clean(row.get("分局"))
        if group:
            if out.get(station, group) != group:
                raise _row_error(number, "分局", f"派出所 {station} 已属于 {out[station]}，此行为 {group}")
            out[station] = group
    return out if has_column else None


def from_database(session, *, since: datetime, until: datetime, roster_day: date,
                  tz: str | None = None) -> tuple[list[SimWarning], list[Shift], dict[str, str]]:
    """The platform's own records for a replay: the warnings placed at a station with 预警时间 in [since, until)
    (station code from warnings.station_id), the roster of `roster_day` as daily HH:MM shifts per dissuader (a
    station that keeps no roster at all, as dispatch reads it: each active dissuader all day), and siblings =
    station code → its parent's (分局's) code."""
    from sqlalchemy import select

    from fanzha.common.localtime import zone as configured_zone
    from fanzha.org.enums import Level
    from fanzha.org.models import Area, User
    from fanzha.org.roles import Role
    from fanzha.warnings.models import DutyShift, Warning

    zone = ZoneInfo(tz) if tz else configured_zone()
    stations = {a.id: a for a in session.scalars(select(Area).where(Area.level == Level.STATION))}
    parents = dict(session.execute(select(Area.id, Area.code)).all())
    warnings = [
        SimWarning(id=w.external_id, warned_at=w.warned_at, grade=w.risk_grade, kind=w.kind,
                   station=stations[w.station_id].code, amount=float(w.amount) if w.amount is not None else None,
                   face=bool(w.face_required), contact_due=w.contact_deadline)
        for w in session.scalars(select(Warning).where(Warning.warned_at >= since, Warning.warned_at < until,
                                                        Warning.station_id.is_not(None)).order_by(Warning.warned_at))
        if w.station_id in stations]
    day_start = datetime.combine(roster_day, time(0), zone).astimezone(UTC)
    day_end = day_start + timedelta(days=1)
    users = {u.id: u for u in session.scalars(select(User).where(User.role == Role.DISSUADER))}
    rostered = set(session.scalars(select(DutyShift.station_id).distinct()))

    def who(u) -> str:
        return f"{u.display_name}（{u.username}）"

    shifts: list[Shift] = []
    for d in session.scalars(select(DutyShift).where(DutyShift.starts_at < day_end, DutyShift.ends_at > day_start)
                             .order_by(DutyShift.starts_at)):
        u = users.get(d.user_id)
        if u is None or not u.is_active or d.station_id not in stations:
            continue
        start, end = d.starts_at.astimezone(zone), d.ends_at.astimezone(zone)
        if end - start >= timedelta(days=1):
            start_t = end_t = time(8)
        else:
            start_t, end_t = start.time().replace(second=0, microsecond=0), end.time().replace(second=0, microsecond=0)
        shifts.append(Shift(stations[d.station_id].code, who(u), start_t, end_t))
    for u in users.values():
        if u.is_active and u.area_id in stations and u.area_id not in rostered:
            shifts.append(Shift(stations[u.area_id].code, who(u), time(8), time(8)))
    siblings = {a.code: parents[a.parent_id] for a in stations.values() if a.parent_id in parents}
    return warnings, shifts, siblings
