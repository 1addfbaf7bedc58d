"""Map data for the demo county, made up and never fetched: each county a rectangle, its townships the Voronoi
cells of jittered seeds inside it, each township's communities the Voronoi cells inside the township. Cells tile
their parent without overlapping. Counties and townships get boundaries (choropleth); communities get them in the
first county only, elsewhere only centroids, as most centres have (bubbles)."""

from __future__ import annotations

import math
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.org.enums import Chain, Level
from fanzha.org.models import Area
from fanzha.reports.geo import centroid, voronoi_cells
from fanzha.reports.models import AreaGeo

ORIGIN = (113.05, 28.10)  # a made-up spot; the demo's area codes are fictional too
COUNTY_W, COUNTY_H = 0.30, 0.24
GAP = 0.004  # degrees between counties, so each reads as its own block


def _seeds(r: random.Random, polygon: list[tuple[float, float]], n: int) -> list[tuple[float, float]]:
    """n points spread over a convex polygon: a jittered grid over its box, kept where inside."""
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    cols = max(1, math.ceil(math.sqrt(n * (x1 - x0) / max(y1 - y0, 1e-9))))
    rows = max(1, math.ceil(n / cols))
    out: list[tuple[float, float]] = []
    tries = 0
    while len(out) < n and tries < 50:
        tries += 1
        cells = [(i, j) for i in range(cols) for j in range(rows)]
        r.shuffle(cells)
        for i, j in cells:
            if len(out) >= n:
                break
            x = x0 + (i + r.uniform(0.2, 0.8)) * (x1 - x0) / cols
            y = y0 + (j + r.uniform(0.2, 0.8)) * (y1 - y0) / rows
            if _inside((x, y), polygon) and all(abs(x - px) + abs(y - py) > 1e-4 for px, py in out):
                out.append((x, y))
        cols, rows = cols + 1, rows + 1
    return out


def _inside(p: tuple[float, float], polygon: list[tuple[float, float]]) -> bool:
    """Inside a convex polygon given counter-clockwise."""
    for i, a in enumerate(polygon):
        b = polygon[(i + 1) % len(polygon)]
        if (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) < 0:
            return False
    return True


def _geometry(cell: list[tuple[float, float]]) -> dict:
    ring = [[round(x, 5), round(y, 5)] for x, y in cell]
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


def generate_geo(session: Session, *, seed: int) -> int:
    r = random.Random(seed * 31 + 7)
    city = session.scalar(select(Area).where(Area.chain == Chain.ADMIN, Area.level == Level.CITY).order_by(Area.id))
    if city is None:
        return 0
    counties = list(session.scalars(select(Area).where(Area.parent_id == city.id, Area.level == Level.COUNTY)
                                    .order_by(Area.code)))
    rows = []
    for i, county in enumerate(counties):
        x0 = ORIGIN[0] + (i % 2) * (COUNTY_W + GAP)
        y0 = ORIGIN[1] - (i // 2) * (COUNTY_H + GAP)
        box = [(x0, y0), (x0 + COUNTY_W, y0), (x0 + COUNTY_W, y0 + COUNTY_H), (x0, y0 + COUNTY_H)]
        community_boundaries = i == 0
        rows.append(AreaGeo(area_id=county.id, lon=x0 + COUNTY_W / 2, lat=y0 + COUNTY_H / 2,
                            boundary=_geometry(box), source="demo"))
        townships = list(session.scalars(select(Area).where(Area.parent_id == county.id).order_by(Area.code)))
        for township, cell in zip(townships, voronoi_cells(_seeds(r, box, len(townships)), box), strict=False):
            lon, lat = centroid(_geometry(cell))
            rows.append(AreaGeo(area_id=township.id, lon=lon, lat=lat, boundary=_geometry(cell), source="demo"))
            communities = list(session.scalars(select(Area).where(Area.parent_id == township.id)
                                               .order_by(Area.code)))
            for community, sub in zip(communities, voronoi_cells(_seeds(r, cell, len(communities)), cell), strict=False):
                if len(sub) < 3:
                    continue
                lon, lat = centroid(_geometry(sub))
                rows.append(AreaGeo(area_id=community.id, lon=lon, lat=lat,
                                    boundary=_geometry(sub) if community_boundaries else None,
                                    source="demo"))
    xs = [g.lon for g in rows] or [ORIGIN[0]]
    ys = [g.lat for g in rows] or [ORIGIN[1]]
    rows.append(AreaGeo(area_id=city.id, lon=sum(xs) / len(xs), lat=sum(ys) / len(ys), source="demo"))
    session.add_all(rows)
    session.flush()
    return len(rows)
