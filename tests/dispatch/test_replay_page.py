"""调度回放 as a centre analyst uses it: open the page, press 运行回放 with what the form holds (last week's
warnings, today's roster), and read both policies side by side; a station's staff cannot open it; bad dates are
named."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

from support.forms import default_values, parse


def _form(page: str) -> dict:
    return next(f for f in parse(page).forms if f["action"] == "" and f["method"] == "get"
                and any(name == "run" for name, _ in f["fields"]))


def test_the_centre_replays_last_week_under_both_policies(client_as):
    client = client_as("yanpan")
    page = client.get("/dispatch/replay")
    assert page.status_code == 200
    form = _form(page.text)
    values = dict(default_values(form))
    assert values["run"] == "1" and values["since"] and values["until"] and values["roster_day"]
    done = client.get("/dispatch/replay?" + urlencode(default_values(form)))
    assert done.status_code == 200, done.text[:500]
    assert 'id="replay-summary"' in done.text, "the demo county has warnings in the last week"
    rows = re.findall(r'<tr data-grade="(\w+)" data-policy="(\w+)">', done.text)
    assert ("high", "fifo") in rows and ("high", "ours") in rows
    assert {p for _, p in rows} == {"fifo", "ours"}
    chart = json.loads(re.search(r'<script type="application/json" id="replay-data">(.*?)</script>', done.text,
                                 re.S).group(1))
    assert [s["name"] for s in chart["series"]] == ["先到先办（现行做法）", "平台调度策略"]
    # The metrics page links to it for the centre.
    assert 'href="/dispatch/replay"' in client.get("/metrics").text


def test_bad_dates_are_named_and_stations_are_refused(client_as):
    client = client_as("yanpan")
    r = client.get("/dispatch/replay", params={"since": "2026-13-40", "run": "1"})
    assert r.status_code == 422 and "开始日期 应为日期" in r.text
    r = client.get("/dispatch/replay", params={"since": "2026-11-10", "until": "2026-11-01", "run": "1"})
    assert r.status_code == 422 and "结束日期不能早于开始日期" in r.text
    r = client.get("/dispatch/replay", params={"since": "2026-01-01", "until": "2026-11-01", "run": "1"})
    assert r.status_code == 422 and "一次最多回放 31 天" in r.text
    assert client_as("ps01_suozhang").get("/dispatch/replay").status_code == 403
    assert client_as("ps01_quanzu").get("/dispatch/replay").status_code == 403
