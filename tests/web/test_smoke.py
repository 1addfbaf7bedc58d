"""The platform answers: health, login page, OpenAPI document."""


def test_health_and_login_page(app):
    from support.web import make_client

    client = make_client(app)
    assert client.get("/healthz").json()["status"] == "ok"
    page = client.get("/login")
    assert page.status_code == 200
    assert "反诈平台 登录" in page.text


def test_openapi_document_lists_the_api(app):
    from support.web import make_client

    doc = make_client(app).get("/api/v1/openapi.json").json()
    assert "/api/v1/people/{person_id}" in doc["paths"]
    assert "/api/v1/auth/token" in doc["paths"]
