"""Areas on the map: GeoJSON import (boundaries and centroids per area code), polygon arithmetic, and the map layer —
立案, 损失, 破案, 抓获 or 万人发案率 per sub-area (counted as 案件研判 counts them, from the same roll-up), as a
choropleth where boundaries exist and bubbles at centroids elsewhere."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.cases.stats import definitions
from fanzha.cases.stats.service import Totals, leaf_totals
from fanzha.common.errors import Invalid
from fanzha.common.periods import Period
from fanzha.org.enums import Chain, Level
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.org.tree import top_area
from fanzha.reports.models import AreaGeo
from fanzha.reports.provider import _Tree, leaves

METRICS = {"cases": "立案数（起）", "loss": "损失（万元）", "solved": "破案数（起）", "suspects": "抓获人数（人）",
           "per_10k": "万人发案率"}
CODE_KEYS = ("code", "area_code", "编码", "辖区编码")


# -- polygons ----------------------------------------------------------------------------
def ring_centroid(ring: list[list[float]]) -> tuple[float, float, float]:
    """(lon, lat, signed area) of a closed or open ring (shoelace formula)."""
    pts = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=False):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(a) < 1e-15:
        n = len(pts) or 1
        return sum(p[0] for p in pts) / n, sum(p[1] for p in pts) / n, 0.0
    return cx / (3 * a), cy / (3 * a), a / 2


def centroid(geometry: dict) -> tuple[float, float]:
    """Area-weighted centroid of the outer rings of a Polygon or MultiPolygon; a Point is its own centroid."""
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        return float(coords[0]), float(coords[1])
    polygons = [coords] if kind == "Polygon" else coords
    total = sx = sy = 0.0
    for poly in polygons:
        x, y, a = ring_centroid(poly[0])
        total += abs(a)
        sx += x * abs(a)
        sy += y * abs(a)
    if total == 0:
        x, y, _ = ring_centroid(polygons[0][0])
        return x, y
    return sx / total, sy / total


def clip(polygon: list[tuple[float, float]], a: float, b: float, c: float) -> list[tuple[float, float]]:
    """The part of a convex polygon where a·x + b·y <= c (Sutherland–Hodgman against one half-plane)."""
    out = []
    for i, p in enumerate(polygon):
        q = polygon[(i + 1) % len(polygon)]
        fp, fq = a * p[0] + b * p[1] - c, a * q[0] + b * q[1] - c
        if fp <= 0:
            out.append(p)
        if (fp < 0 < fq) or (fq < 0 < fp):
            t = fp / (fp - fq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def voronoi_cells(seeds: list[tuple[float, float]], bounds: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """Each seed's Voronoi cell inside a convex polygon: cells tile the polygon without overlapping."""
    cells = []
    for i, (xi, yi) in enumerate(seeds):
        cell = list(bounds)
        for j, (xj, yj) in enumerate(seeds):
            if i != j and cell:
                cell = clip(cell, xj - xi, yj - yi, (xj * xj + yj * yj - xi * xi - yi * yi) / 2)
        cells.append(cell)
    return cells


def _valid_geometry(geometry) -> str:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon", "Point"):
        return "几何类型应为 Polygon、MultiPolygon 或 Point"
    coords = geometry.get("coordinates")
    try:
        if geometry["type"] == "Point":
            points = [coords]
        else:
            polygons = [coords] if geometry["type"] == "Polygon" else coords
            points = [p for poly in polygons for ring in poly for p in ring]
            if any(len(ring) < 4 for poly in polygons for ring in poly):
                return "多边形的环至少需要 4 个点（首尾相同）"
        if not points:
            return "没有坐标"
        for p in points:
            lon, lat = float(p[0]), float(p[1])
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                return "坐标应为经纬度（WGS-84，经度在前）"
    except (TypeError, ValueError, IndexError, KeyError):
        return "坐标格式不对"
    return ""


@dataclass
class GeoImportResult:
    boundaries: int = 0
    centroids: int = 0
    errors: list[dict] = field(default_factory=list)  # {"feature": n (1-based), "code": …, "reason": …}


def import_geojson(session: Session, scope: Scope, data: dict, *, source: str = "") -> GeoImportResult:
    """Boundaries (Polygon/MultiPolygon) and centroids (Point, or lon/lat properties) per area code.

    All or nothing: when any feature is wrong — unknown code, bad geometry — nothing is written and every wrong
    feature is listed with its number and reason."""
    scope.require(Perm.MANAGE_AREAS)
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise Invalid("文件应为 GeoJSON FeatureCollection")
    result = GeoImportResult()
    codes = {}
    for n, feature in enumerate(data["features"], start=1):
        props = (feature or {}).get("properties") or {}
        code = next((str(props[k]).strip() for k in CODE_KEYS if props.get(k) not in (None, "")), "")
        if not code:
            result.errors.append({"feature": n, "code": "", "reason": "properties 中缺少辖区编码（code）"})
            continue
        reason = _valid_geometry((feature or {}).get("geometry"))
        if reason:
            result.errors.append({"feature": n, "code": code, "reason": reason})
            continue
        codes[code] = (n, feature["geometry"], props)
    areas = {a.code: a for a in session.scalars(select(Area).where(Area.code.in_(list(codes))))} if codes else {}
    for code, (n, _, _) in codes.items():
        if code not in areas:
            result.errors.append({"feature": n, "code": code, "reason": "辖区编码不存在"})
    if result.errors:
        result.errors.sort(key=lambda e: e["feature"])
        return result
    for code, (_, geometry, props) in codes.items():
        area = areas[code]
        lon, lat = centroid(geometry)
        if props.get("lon") not in (None, "") and props.get("lat") not in (None, ""):
            lon, lat = float(props["lon"]), float(props["lat"])
        boundary = geometry if geometry["type"] != "Point" else None
        row = session.get(AreaGeo, area.id)
        if row is None:
            row = AreaGeo(area_id=area.id, lon=lon, lat=lat)
            session.add(row)
        row.lon, row.lat, row.source = lon, lat, source[:64]
        if boundary is not None:
            row.boundary = boundary
            result.boundaries += 1
        else:
            result.centroids += 1
    session.flush()
    from fanzha.audit import service as audit

    audit.record(session, scope, "import", "area", "", detail={"geojson": source, "boundaries": result.boundaries,
                                                                "centroids": result.centroids})
    return result


# -- the map layer -----------------------------------------------------------------------
def default_parent(session: Session, scope: Scope) -> Area | None:
    """The reader's own administrative node, or the top of the administrative chain for a police reader."""
    if scope.chain == Chain.ADMIN:
        return session.get(Area, scope.area_id)
    return top_area(session, Chain.ADMIN)


def sub_level(parent: Area | None) -> str:
    if parent is not None and parent.level in (Level.TOWNSHIP, Level.COMMUNITY):
        return Level.COMMUNITY
    return Level.TOWNSHIP


def layer(session: Session, scope: Scope, parent: Area | None, period: Period, *, level: str = "") -> dict:
    """Per sub-area under `parent` (townships, or communities under a township): 立案 (cases), 损失 (loss), 破案
    (solved), 抓获 (suspects) — each counted by its time (cases.stats.definitions) — 万人发案率, centroid, and a
    GeoJSON FeatureCollection of those with a boundary (feature name = area code)."""
    scope.require(Perm.READ_CASES)
    level = level or sub_level(parent)
    stmt = select(Area).where(Area.level == level, scope.area_clause())
    if parent is not None:
        stmt = stmt.where(Area.path.startswith(parent.path, autoescape=True))
    units = {a.id: a for a in session.scalars(stmt.order_by(Area.code))}
    tree = _Tree(session)
    leaf_ids = list(session.scalars(leaves(session, scope, parent)))
    (by_leaf,) = leaf_totals(session, leaf_ids, period)
    counts: dict[int, Totals] = {uid: Totals() for uid in units}
    for community_id, t in by_leaf.items():
        node = tree.ancestor(community_id, level)
        if node is not None and node.id in counts:
            counts[node.id] += t
    population: dict[int, int] = dict.fromkeys(units, 0)
    if level == Level.COMMUNITY:
        population = {uid: a.population for uid, a in units.items()}
    else:
        for leaf in session.execute(select(Area.id, Area.population).where(Area.level == Level.COMMUNITY,
                                                                            Area.id.in_(scope.community_ids()))):
            node = tree.ancestor(leaf.id, level)
            if node is not None and node.id in population:
                population[node.id] += leaf.population or 0
    geo = {g.area_id: g for g in session.scalars(select(AreaGeo).where(AreaGeo.area_id.in_(list(units))))}
    points, features = [], []
    for uid, area in units.items():
        t = counts[uid]
        n, loss = t.cases, t.loss
        pop = population.get(uid) or 0
        g = geo.get(uid)
        points.append({"code": area.code, "name": area.label, "cases": n, "loss": float(loss),
                       "loss_wan": round(float(loss) / 10_000, 2), "solved": t.solved, "suspects": t.suspects,
                       "per_10k": round(n * 10_000 / pop, 2) if pop else None, "population": pop,
                       "lon": g.lon if g else None, "lat": g.lat if g else None,
                       "boundary": bool(g and g.boundary)})
        if g and g.boundary:
            features.append({"type": "Feature", "properties": {"name": area.code, "label": area.label},
                             "geometry": g.boundary})
    return {"period": period.spec, "period_label": period.label, "parent": parent.code if parent else None,
            "parent_name": parent.label if parent else "", "level": level, "metrics": METRICS,
            "basis": definitions.HEADLINE_BASIS,
            "areas": points, "geojson": {"type": "FeatureCollection", "features": features}}
