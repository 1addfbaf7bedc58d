"""Demo 串并案: recent cases and warnings sharing counterparty accounts, phones, links and apps — within one station,
across two stations of different townships (each sees only the count of the other's), with a warning raised by an
open case and one holding a blocklisted number — so the 串并 list and both record pages show links on first run."""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.blocklist.models import BlocklistEntry
from fanzha.cases.models import Case
from fanzha.links import store
from fanzha.links.rules import Identifier, key_of
from fanzha.org.models import Area, User
from fanzha.warnings.enums import GRADES
from fanzha.warnings.models import Warning


def _station_path(session: Session, username: str) -> str | None:
    return session.scalar(select(Area.path).join(User, User.area_id == Area.id).where(User.username == username))


def _under(session: Session, model, path: str, n: int) -> list:
    """The station's `n` latest cases or warnings."""
    time = model.filed_at if model is Case else model.warned_at
    return list(session.scalars(select(model).join(Area, Area.id == model.community_id)
                                .where(Area.police_path.startswith(path))
                                .order_by(time.desc(), model.id).limit(n)))


def _ident(kind: str, value: str) -> Identifier:
    return Identifier(kind, value, key_of(kind, value))


def _raise(warning: Warning, reason: str) -> None:
    """The grade a warning arriving now would get: 串并 raises it to 高 (an upstream 高 keeps it, reason added)."""
    if warning.risk_grade == "high":
        warning.grade_reasons = [*warning.grade_reasons, "另：串并：" + reason]
    else:
        warning.grade_reasons = [*warning.grade_reasons, f"升为{GRADES['high']}：串并：" + reason]
        warning.risk_grade = "high"


def generate_links(session: Session, *, seed: int, now: datetime) -> int:
    """Counterparty identifiers on a few recent records; how many records were given one."""
    r = random.Random(seed * 29)
    first, other = _station_path(session, "ps01_suozhang"), _station_path(session, "ps03_suozhang")
    if first is None or other is None:
        return 0
    cases_a, cases_b = _under(session, Case, first, 3), _under(session, Case, other, 2)
    # Latest warnings, those not yet 高 first: the one the account ring raises shows 升为高 on its page.
    warnings_a = sorted(_under(session, Warning, first, 10), key=lambda w: w.risk_grade == "high")[:3]
    warnings_b = _under(session, Warning, other, 1)
    if len(cases_a) < 3 or len(cases_b) < 1 or len(warnings_a) < 3:
        return 0
    account = _ident("account", f"6217 0029 {r.randint(1000, 9999)} {r.randint(1000, 9999)} 123")
    phone = _ident("phone", f"170 {r.randint(1000, 9999)} {r.randint(1000, 9999)}")
    url = _ident("url", "https://www.jz-licai-vip.example.com/invest")
    app = _ident("app", "鑫盛优选")
    social = _ident("social", f"QQ {r.randint(10_000_000, 99_999_999)}")
    blocked = session.scalar(select(BlocklistEntry).where(BlocklistEntry.kind == "phone").order_by(BlocklistEntry.id))
    given: dict[tuple[str, int], list[Identifier]] = {
        ("case", cases_a[0].id): [account, url, app],       # the account ring spans two stations
        ("case", cases_b[0].id): [account, social],
        ("case", cases_a[1].id): [phone, app],              # a phone shared by two cases of one station
        ("case", cases_a[2].id): [phone],
        ("warning", warnings_a[0].id): [account],           # raised: an open case holds the account
        ("warning", warnings_a[1].id): [url],
    }
    if warnings_b:
        given[("warning", warnings_b[0].id)] = [social]
    if blocked is not None:
        given[("warning", warnings_a[2].id)] = [_ident("phone", blocked.key)]
    for (kind, rid), items in given.items():
        store.add(session, kind, [(rid, [i for i in items if i.key])])
    _raise(warnings_a[0], store.match_reason([account], {(account.kind, account.key): [cases_a[0].case_number,
                                                                                        cases_b[0].case_number]}, set()))
    if blocked is not None:
        blocked_id = _ident("phone", blocked.key)
        _raise(warnings_a[2], store.match_reason([blocked_id], {}, {(blocked_id.kind, blocked_id.key)}))
    session.flush()
    return len(given)
