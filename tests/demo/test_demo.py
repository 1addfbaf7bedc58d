"""The demo county: within the issue's ranges, every role present, and the same seed gives the same county."""

from __future__ import annotations

import re

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from fanzha.org.models import Area, User
from fanzha.org.roles import Role
from fanzha.people.models import Person


def _generate(tmp_path, name: str, seed: int):
    from fanzha.demo.generator import generate
    from fanzha.migrate import upgrade

    url = f"sqlite:///{tmp_path / name}"
    upgrade("head", url=url)
    engine = create_engine(url)
    with Session(engine) as s:
        result = generate(s, seed=seed, people=300)
        s.commit()
        snapshot = (
            [(a.code, a.name, a.population) for a in s.scalars(select(Area).order_by(Area.code))],
            [(p.name, p.id_number, p.phone) for p in s.scalars(select(Person).order_by(Person.id))],
        )
    engine.dispose()
    return result, snapshot


def test_same_seed_same_county_and_ranges(tmp_path):
    r1, snap1 = _generate(tmp_path, "a.db", 11)
    _, snap2 = _generate(tmp_path, "b.db", 11)
    _, snap3 = _generate(tmp_path, "c.db", 12)
    assert snap1 == snap2
    assert snap1 != snap3
    c = r1.counts
    assert 3 <= c["districts"] <= 5 and 8 <= c["townships"] <= 15 and 15 <= c["stations"] <= 25
    assert 150 <= c["communities"] <= 300 and c["users"] >= 30
    assert {login.role for login in r1.logins} == set(Role)


def test_every_leaf_joins_both_chains(db):
    from fanzha.common.identity import normalize_id_number

    # The demo's own villages and communities (JZ, district, township, three digits): other tests add bare ones.
    leaves = [a for a in db.scalars(select(Area).where(Area.level == "community"))
              if re.fullmatch(r"JZ\d{7}", a.code or "")]
    assert len(leaves) >= 100
    for leaf in leaves:
        assert leaf.parent.level == "township"
        assert leaf.police_area.level in ("beat", "station") and leaf.police_path == leaf.police_area.path
        assert leaf.population > 0 and leaf.households > 0
    for p in db.scalars(select(Person).where(Person.id_number.is_not(None)).order_by(Person.id).limit(200)):
        assert normalize_id_number(p.id_number) == p.id_number  # valid checksum
    assert db.scalar(select(func.count()).select_from(User)) >= 30


def test_the_register_shows_an_original_bulletin_and_its_revision(db):
    """A newcomer sees a period issued once and revised once (修订, replacing the original's number)."""
    from fanzha.reports.models import IssuedDocument

    revision = db.scalar(select(IssuedDocument).where(IssuedDocument.kind == "monthly", IssuedDocument.edition == 1,
                                                      IssuedDocument.revision_note.like("补录%")))
    assert revision is not None and revision.title.endswith("（修订）")
    original = db.get(IssuedDocument, revision.revises_id)
    assert original.edition == 0 and original.period == revision.period and original.seq < revision.seq
