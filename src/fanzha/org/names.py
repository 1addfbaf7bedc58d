"""Place names that cannot be confused: the one rule for how an area (辖区) is shown to people.

An area's label (`Area.label`) is its name when no other area of the same chain in the deployment has that name.
When the name repeats, the label puts the parent's name in front, joined by "·" (河口镇·金鸡村), and goes up one more
level at a time only while the label would still be shared (临江区·河口镇·金鸡村, when two districts each have a
河口镇 with a 金鸡村). Two areas whose whole ancestry is the same (or an area literally named like another's label)
are told apart by their code: 河口镇·金鸡村（JZ0203005）.

Every page, picker, ranking, export, document and API label reads `Area.label` (in SQL: `select(Area.label)`);
the raw `Area.name` is kept for what identifies an area (import matching, the form that edits the name, the API's
`name` field beside `label`). Labels are stored because rankings and joins select them in SQL; `refresh_labels`
recomputes them after every write to areas, and a commit that changed an area's name, parent or existence runs it
once more in case a writer forgot (see `fanzha.org.models`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from fanzha.org.models import STALE_LABELS, Area

SEPARATOR = "·"


class Node(NamedTuple):
    """What the rule looks at: one area as (id, chain, name, parent id, code)."""

    id: int
    chain: str
    name: str
    parent_id: int | None
    code: str


def labels_for(nodes: Iterable[Node]) -> dict[int, str]:
    """The label of every node, given all the areas of the deployment (a pure function: no database)."""
    nodes = list(nodes)
    by_id = {n.id: n for n in nodes}

    def ancestry(n: Node) -> list[str]:
        """The names above `n`, nearest first (parent, grandparent …)."""
        out, seen, parent = [], {n.id}, by_id.get(n.parent_id) if n.parent_id is not None else None
        while parent is not None and parent.id not in seen:  # a cycle would be bad data; stop rather than loop
            out.append(parent.name)
            seen.add(parent.id)
            parent = by_id.get(parent.parent_id) if parent.parent_id is not None else None
        return out

    sharing: dict[tuple[str, str], list[Node]] = defaultdict(list)
    for n in nodes:
        sharing[(n.chain, n.name)].append(n)
    labels: dict[int, str] = {}
    for members in sharing.values():
        if len(members) == 1:
            labels[members[0].id] = members[0].name
            continue
        above = {m.id: ancestry(m) for m in members}
        for m in members:
            labels[m.id] = _qualified(m, above[m.id], [above[o.id] for o in members if o.id != m.id])
    # Whatever is left shared (the same ancestry, or a name written like another's label) gets its code.
    count: dict[tuple[str, str], int] = defaultdict(int)
    for n in nodes:
        count[(n.chain, labels[n.id])] += 1
    for n in nodes:
        if count[(n.chain, labels[n.id])] > 1:
            labels[n.id] = f"{labels[n.id]}（{n.code}）"
    return labels


def _qualified(node: Node, mine: list[str], others: list[list[str]]) -> str:
    """`node`'s name behind as few of its ancestors' names as make it differ from every other area of that name."""
    for depth in range(1, len(mine) + 1):
        if all(other[:depth] != mine[:depth] for other in others):
            return SEPARATOR.join([*reversed(mine[:depth]), node.name])
    return SEPARATOR.join([*mine[:1], node.name])  # nothing above tells it apart: labels_for adds the code


def refresh_labels(session: Session) -> int:
    """Recompute every area's label from the names as they now are; returns how many labels changed.

    Call it after any write to areas (creation, rename, import, demo seeding). It reads all areas (a deployment has
    thousands, a province tens of thousands: one query) and writes only the labels that changed."""
    session.flush()
    rows = session.execute(select(Area.id, Area.chain, Area.name, Area.parent_id, Area.code, Area.label)).all()
    wanted = labels_for(Node(*r[:5]) for r in rows)
    changed = [{"area_id": r.id, "new_label": wanted[r.id]} for r in rows if r.label != wanted[r.id]]
    if changed:
        table = cast(Table, Area.__table__)  # a declarative class's table is a Table
        session.execute(update(table).where(table.c.id == bindparam("area_id")).values(label=bindparam("new_label")),
                        changed)
        for c in changed:  # objects already loaded show the new label without a reload
            loaded = session.identity_map.get(session.identity_key(Area, c["area_id"]))
            if loaded is not None:
                set_committed_value(loaded, "label", c["new_label"])
    session.info.pop(STALE_LABELS, None)
    return len(changed)
