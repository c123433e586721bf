"""The health check and the placeholder pages answer."""


def test_healthz_reports_ok_with_a_working_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_reports_503_when_the_database_is_gone(tmp_path):
    from tests.conftest import make_app

    broken = make_app(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "failed"


def test_chat_page_is_served_in_dutch(client):
    response = client.get("/chat")
    assert response.status_code == 200
    assert b'lang="nl"' in response.data


def test_openapi_document_lists_the_report_routes(client):
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/reports" in spec["paths"]
    assert "/api/v1/reports/{reference}/status" in spec["paths"]
    assert "/api/v1/geo/lookup" in spec["paths"]


def test_session_cookies_are_lax_and_http_only_and_secure_behind_https(tmp_path, database_url):
    from tests.conftest import make_app

    plain = make_app(tmp_path, database_url)
    assert (plain.config["SESSION_COOKIE_SAMESITE"], plain.config["SESSION_COOKIE_HTTPONLY"],
            plain.config["SESSION_COOKIE_SECURE"]) == ("Lax", True, False)
    behind_https = make_app(tmp_path, database_url, PUBLIC_URL="https://meldingen.example.nl")
    assert behind_https.config["SESSION_COOKIE_SECURE"] is True
