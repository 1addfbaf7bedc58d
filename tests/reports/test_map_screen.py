"""The case map (GeoJSON import, centroids, choropleth and bubbles) and the wall screen's feed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from fanzha.db import session_scope
from fanzha.org.scope import Scope
from fanzha.reports import geo
from fanzha.reports.models import AreaGeo


def test_centroid_and_voronoi_cells_tile_their_parent():
    square = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
    assert geo.centroid(square) == pytest.approx((1.0, 1.0))
    # An L of two unit squares weighs the larger part: (0..2 × 0..1) + (0..1 × 1..2) → centroid (5/6, 5/6)
    ell = {"type": "MultiPolygon", "coordinates": [[[[0, 0], [2, 0], [2, 1], [0, 1], [0, 0]]],
                                                   [[[0, 1], [1, 1], [1, 2], [0, 2], [0, 1]]]]}
    assert geo.centroid(ell) == pytest.approx((5 / 6, 5 / 6))
    box = [(0.0, 0.0), (4.0, 0.0), (4.0, 3.0), (0.0, 3.0)]
    seeds = [(0.5, 0.5), (3.0, 1.0), (2.0, 2.5), (1.0, 2.0)]
    cells = geo.voronoi_cells(seeds, box)
    areas = [abs(geo.ring_centroid([list(p) for p in c])[2]) for c in cells]
    assert sum(areas) == pytest.approx(12.0)  # no gap, no overlap: the cells add up to the box
    for seed, cell in zip(seeds, cells, strict=False):  # each seed lies in its own cell
        x, y, _ = geo.ring_centroid([list(p) for p in cell])
        assert min(abs(x - sx) + abs(y - sy) for sx, sy in seeds) == pytest.approx(abs(x - seed[0]) + abs(y - seed[1]))


def test_demo_ships_boundaries_for_its_county(db):
    with_boundary = db.scalar(select(func.count()).select_from(AreaGeo).where(AreaGeo.boundary.is_not(None)))
    centroid_only = db.scalar(select(func.count()).select_from(AreaGeo).where(AreaGeo.boundary.is_(None)))
    assert with_boundary > 10 and centroid_only > 10


def test_geojson_import_is_all_or_nothing(june, tmp_path):
    from typer.testing import CliRunner

    from fanzha.cli.main import app

    *_, community_code, township_code = june
    ring = [[113.0, 28.0], [113.1, 28.0], [113.1, 28.1], [113.0, 28.1], [113.0, 28.0]]
    good = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": township_code}, "geometry": {"type": "Polygon", "coordinates": [ring]}},
        {"type": "Feature", "properties": {"code": community_code}, "geometry": {"type": "Point", "coordinates": [113.02, 28.03]}},
    ]}
    bad = {"type": "FeatureCollection", "features": good["features"] + [
        {"type": "Feature", "properties": {"code": "NO-SUCH"}, "geometry": {"type": "Point", "coordinates": [1, 1]}},
        {"type": "Feature", "properties": {"code": township_code}, "geometry": {"type": "Point", "coordinates": [1]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1, 1]}},
    ]}
    runner = CliRunner()
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    with session_scope() as s:
        before = s.get(AreaGeo, s.scalar(select(AreaGeo.area_id).join(AreaGeo.area).where(
            AreaGeo.area.has(code=township_code)))).boundary
    r = runner.invoke(app, ["report", "geo-import", str(path)])
    assert r.exit_code == 1
    assert "第 3 个要素 NO-SUCH：辖区编码不存在" in r.output and "第 5 个要素" in r.output and "第 4 个要素" in r.output
    with session_scope() as s:
        from fanzha.org.models import Area

        t = s.scalar(select(Area).where(Area.code == township_code))
        assert s.get(AreaGeo, t.id).boundary == before  # nothing written

    path = tmp_path / "good.geojson"
    path.write_text(json.dumps(good, ensure_ascii=False), encoding="utf-8")
    r = runner.invoke(app, ["report", "geo-import", str(path)])
    assert r.exit_code == 0 and json.loads(r.output) == {"boundaries": 1, "centroids": 1}
    with session_scope() as s:
        from fanzha.org.models import Area

        t = s.scalar(select(Area).where(Area.code == township_code))
        row = s.get(AreaGeo, t.id)
        assert row.boundary["coordinates"] == [ring] and (row.lon, row.lat) == pytest.approx((113.05, 28.05))
        c = s.scalar(select(Area).where(Area.code == community_code))
        assert (s.get(AreaGeo, c.id).lon, s.get(AreaGeo, c.id).lat) == (113.02, 28.03)


def test_map_layer_counts_the_hand_made_month(june, api_as):
    _, _, community_a, township_a, community_code, _ = june
    data = api_as("admin").get(f"/api/v1/map?area_id={township_a}&period=2024-06").json()
    assert data["level"] == "community"
    row = next(a for a in data["areas"] if a["code"] == community_code)
    assert (row["cases"], row["loss"]) == (2, 100000.0)  # 95,500 + 4,500; the 1 July case is not June's
    assert sum(a["cases"] for a in data["areas"]) == 2
    names = {f["properties"]["name"] for f in data["geojson"]["features"]}
    assert names <= {a["code"] for a in data["areas"]}
    county = api_as("admin").get("/api/v1/map?period=2024-06").json()
    assert county["level"] == "township" and sum(a["cases"] for a in county["areas"]) == 3


def test_map_is_scoped_to_the_readers_areas(api_as, db):
    from fanzha.org.models import Area, User

    officer = db.scalar(select(User).where(User.username == "ps01_minjing"))
    station = db.get(Area, officer.area_id)
    covered = set(db.scalars(select(Area.parent_id).where(Area.police_path.startswith(station.path))))
    data = api_as("ps01_minjing").get("/api/v1/map").json()
    codes = {a["code"] for a in data["areas"]}
    assert codes and codes <= set(db.scalars(select(Area.code).where(Area.id.in_(covered))))
    assert api_as("danwei01").get("/api/v1/map").status_code == 403


def test_screen_feed(api_as, db):
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from fanzha.cases.models import Case
    from fanzha.db import utcnow

    data = api_as("admin").get("/api/v1/screen").json()
    assert set(data) >= {"warnings_today", "month", "types", "townships", "stations", "trend", "map"}
    tz = ZoneInfo("Asia/Shanghai")
    today = utcnow().astimezone(tz).date()
    start = datetime.combine(today.replace(day=1), time.min, tz)
    expected = db.scalar(select(func.count()).select_from(Case).where(
        Case.filed_at >= start, Case.filed_at < datetime.combine(today, time.min, tz) + timedelta(days=1)))
    assert data["month"]["cases"] == expected
    assert len(data["trend"]["days"]) == 30 and data["trend"]["days"][-1] == today.isoformat()
    assert sum(t["cases"] for t in data["types"]) == expected


def test_pages_render(client_as):
    admin = client_as("admin")
    for path in ("/map", "/map?metric=per_10k", "/screen", "/reports"):
        r = admin.get(path)
        assert r.status_code == 200, path
    assert "default-src 'self'" in admin.get("/screen").headers["content-security-policy"]


def test_system_scope_layer_lists_every_township(db):
    from fanzha.common import periods
    from fanzha.org.enums import Level
    from fanzha.org.models import Area

    with session_scope() as s:
        layer = geo.layer(s, Scope.system(s), None, periods.parse("2024-06"))
    assert len(layer["areas"]) == db.scalar(select(func.count()).select_from(Area).where(Area.level == Level.TOWNSHIP))
