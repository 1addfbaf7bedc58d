"""An empty value a browser sends means "not given", on pages and in the API alike (web/forms.py, web/params.py), and
a value that does not fit is named in Chinese on a page while the API keeps its JSON errors."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from fanzha.prevention.models import Activity
from fanzha.web.forms import FIELD_LABELS, parse_form
from fanzha.web.params import OptionalDateForm, OptionalIdForm
from fanzha.web.views import PAGE_ROUTERS
from support.forms import multipart
from support.web import csrf_of


class _Village(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    police_area_id: int | None = None
    households: int = 0
    kind_label: str = "村"


def test_a_form_read_into_a_model_takes_empty_values_as_not_given():
    model, errors = parse_form(_Village, {"name": "新华村", "police_area_id": "", "households": "  ", "kind_label": ""})
    assert errors == {}
    assert (model.police_area_id, model.households, model.kind_label) == (None, 0, "村")
    assert "police_area_id" in model.model_fields_set  # an edit form's "—" clears the field
    model, errors = parse_form(_Village, {"name": " ", "police_area_id": "第七"})
    assert model is None and errors == {"name": "必填", "police_area_id": "应为整数"}


def test_optional_form_parameters_take_empty_values_as_none():
    app = FastAPI()

    @app.post("/letters")
    def issue(unit_id: OptionalIdForm = None, issued_on: OptionalDateForm = None):
        return {"unit_id": unit_id, "issued_on": issued_on and issued_on.isoformat()}

    client = TestClient(app)
    for empty in ("", "   "):
        answer = client.post("/letters", data={"unit_id": empty, "issued_on": empty})
        assert answer.json() == {"unit_id": None, "issued_on": None}, empty
    assert client.post("/letters", data={"unit_id": "7", "issued_on": "2026-03-05"}).json() == {
        "unit_id": 7, "issued_on": "2026-03-05"}
    assert client.post("/letters", data={"unit_id": "0"}).status_code == 422


def test_a_page_names_the_field_in_chinese_and_the_api_keeps_its_json(client_as, api_as):
    page = client_as("admin")
    r = page.get("/cases?page=第二页")
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "<h1>422 · 填写的内容有误：页码 类型不对</h1>" in r.text and "<li>页码：类型不对</li>" in r.text
    r = page.post("/registry/unplaced/place", data={"csrf_token": csrf_of(page), "unplaced_id": "1",
                                                    "community_id": ""})
    assert r.status_code == 422 and "村/社区 必填" in r.text and "community_id" not in r.text
    assert page.get("/warnings/第七条").status_code == 404  # an address whose number does not parse is no page
    api = api_as("admin")
    r = api.get("/api/v1/cases", params={"offset": "第二页"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["loc"] == ["query", "offset"]


def test_every_field_a_page_route_declares_has_a_chinese_name():
    def fields(dependant):
        yield from (f.alias for f in dependant.query_params + dependant.body_params)
        for sub in dependant.dependencies:
            yield from fields(sub)

    missing = {(route.path, name) for router in PAGE_ROUTERS for route in router.routes
               for name in fields(route.dependant) if name not in FIELD_LABELS}
    assert not missing, f"add these to web.forms.FIELD_LABELS: {sorted(missing)}"


def test_the_api_takes_a_file_input_with_nothing_chosen_as_not_given(api_as, db):
    api = api_as("admin")
    body, kind = multipart([], [("file", ("", b"", "application/octet-stream"))])
    r = api.post("/api/v1/imports/address", content=body, headers={"Content-Type": kind})
    assert r.status_code == 422 and r.json()["error"]["details"] == [{"loc": ["file"], "msg": "必填"}]
    activity = db.scalar(select(Activity.id).order_by(Activity.id))
    body, kind = multipart([], [("photo", ("", b"", "application/octet-stream"))])
    r = api.post(f"/api/v1/prevention/activities/{activity}/photos", content=body, headers={"Content-Type": kind})
    assert r.status_code == 422 and r.json()["error"]["message"] == "请选择照片"
