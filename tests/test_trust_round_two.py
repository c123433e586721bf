"""What an auditor found with the locks in place (issue 26): bodies refused before anything parses them, inputs
that gave a 500 answered with a 4xx, ids in the audit log that are what the URL named and nothing else."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from tests.factories import make_report

pytestmark = pytest.mark.rolled_back

PASSWORD = "correct horse battery"
PUBLIC = {"PUBLIC_URL": "https://meldingen.example.nl"}


def _signed_in(app, user):
    client = app.test_client()
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def _report():
    from meldingen.extensions import db

    report = make_report()
    db.session.commit()
    return report.reference


def test_a_photo_upload_of_thousands_of_parts_is_refused_not_a_500(client, make_staff, auth):
    _, token = make_staff("crew")
    reference = _report()
    parts = {f"f{i}": "x" for i in range(3000)}
    response = client.post(f"/api/v1/reports/{reference}/photos", data=parts, headers=auth(token),
                           content_type="multipart/form-data")
    assert response.status_code == 413


@pytest.mark.parametrize("app_config", [PUBLIC])
@pytest.mark.parametrize("path", ["/staff/login", "/chat", "/", "/api/v1/reports", "/open311/v2/services.json"])
def test_a_foreign_host_header_is_a_400(client, path):
    assert client.get(path, headers={"Host": "evil.example"}).status_code == 400


def test_a_next_with_a_line_break_signs_in_to_the_home_page(app, make_staff):
    user, _ = make_staff("head")
    response = app.test_client().post("/staff/login?next=/staff/%0d%0aX:1",
                                      data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert "X:1" not in response.headers["Location"] and "\n" not in response.headers["Location"]
    assert "X" not in response.headers


def test_a_forty_megabyte_status_change_is_refused_unread(app, make_staff):
    user, _ = make_staff("crew")
    client = _signed_in(app, user)
    reference = _report()
    body = (b'--b\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n\r\n'
            + b"\xff" * (40 * 1024 * 1024) + b"\r\n--b--\r\n")
    response = client.post(f"/staff/reports/{reference}/status", data=body,
                           content_type="multipart/form-data; boundary=b")
    assert response.status_code == 413


def test_a_body_over_the_limit_never_reaches_the_form_parser(app, monkeypatch):
    """The sign-in form is small: a larger body is refused by its announced length; nothing parses it (the CSRF
    check included), so its size costs no memory."""
    from werkzeug import formparser

    parsed = []
    original = formparser.FormDataParser.parse
    monkeypatch.setattr(formparser.FormDataParser, "parse",
                        lambda self, *a, **k: parsed.append(1) or original(self, *a, **k))
    body = b"email=a%40b.nl&password=" + b"x" * (2 * 1024 * 1024)
    response = app.test_client().post("/staff/login", data=body,
                                      content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert parsed == []


def test_a_chunked_body_over_the_limit_is_refused_after_reading_only_the_limit(app):
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    read = []

    class Endless(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            read.append(len(buffer))
            buffer[:] = b"x" * len(buffer)
            return len(buffer)

    environ = EnvironBuilder(path="/staff/login", method="POST",
                             content_type="application/x-www-form-urlencoded").get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": io.BufferedReader(Endless()), "wsgi.input_terminated": True,
                    "HTTP_TRANSFER_ENCODING": "chunked"})
    _, status, _ = run_wsgi_app(app.wsgi_app, environ, buffered=True)
    assert status.startswith("413")
    assert sum(read) < 2 * 1024 * 1024  # the 256 KB limit and a buffer, not the endless stream


def test_a_chunked_body_within_the_limit_reaches_the_view_whole(app):
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    body = b"email=nobody%40example.org&password=" + b"x" * 100_000
    environ = EnvironBuilder(path="/staff/login", method="POST",
                             content_type="application/x-www-form-urlencoded").get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True,
                    "HTTP_TRANSFER_ENCODING": "chunked"})
    app.config["WTF_CSRF_ENABLED"] = False
    _, status, _ = run_wsgi_app(app.wsgi_app, environ, buffered=True)
    assert status.startswith("401")  # read whole and judged: a wrong password, not a refused body


def test_a_second_channel_with_the_same_address_is_refused_with_a_reason(app, make_staff):
    from meldingen.channels.models import Channel
    from meldingen.extensions import db

    admin, _ = make_staff("admin")
    client = _signed_in(app, admin)
    form = {"kind": "telegram", "name": "Bot", "address": "bot-123", "organisation": "GM0363", "active": "1"}
    assert client.post("/staff/admin/channels", data=form).status_code in (302, 303)
    again = client.post("/staff/admin/channels", data={**form, "name": "Bot 2"}, follow_redirects=True)
    assert again.status_code == 200
    assert "bestaat al" in again.get_data(as_text=True)
    assert len(db.session.scalars(select(Channel).where(Channel.address == "bot-123")).all()) == 1


def test_the_audit_log_keeps_only_what_an_id_can_be(app, make_staff):
    from meldingen.audit.models import AuditEntry
    from meldingen.extensions import db

    user, _ = make_staff("crew")
    client = _signed_in(app, user)
    client.post("/staff/reports/M-%FF%FEabc%C3%28/status", data={"status": "done"})
    ids = db.session.scalars(select(AuditEntry.object_id).where(AuditEntry.object_id.is_not(None))).all()
    assert ids, "the refused write is logged"
    assert all("\ufffd" not in i and "\x00" not in i for i in ids)


def test_answers_with_a_residents_data_are_never_cached(client, make_staff, auth):
    _, token = make_staff("head")
    reference = _report()
    for path in (f"/api/v1/reports/{reference}", f"/api/v1/reports/{reference}/resident", "/api/v1/reports",
                 "/api/v1/reports/M-XXXXXX"):
        response = client.get(path, headers=auth(token))
        assert response.headers.get("Cache-Control") == "no-store", (path, response.status_code)
    assert client.get("/api/v1/openapi.json").headers.get("Cache-Control") != "no-store"


@pytest.mark.parametrize("role", ["admin", "head", "crew", "agent"])
def test_staff_make_reports_only_where_their_organisation_works(client, make_staff, auth, role):
    from tests.factories import AMSTERDAM, EMMEN

    _, token = make_staff(role, "GM0114")  # Emmen
    elsewhere = client.post("/api/v1/reports", headers=auth(token),
                            json={"description": "Lamp kapot", "location": {"lat": AMSTERDAM[0], "lon": AMSTERDAM[1]}})
    assert elsewhere.status_code == 403
    assert "GM0363" in elsewhere.get_data(as_text=True)
    own = client.post("/api/v1/reports", headers=auth(token),
                      json={"description": "Lamp kapot", "location": {"lat": EMMEN[0], "lon": EMMEN[1]}})
    assert own.status_code == 201 and own.json["organisation"] == "GM0114"


def test_a_service_point_makes_reports_for_the_municipalities_it_serves(client, make_staff, auth):
    from tests.factories import EMMEN

    _, token = make_staff("agent", "DSP")
    response = client.post("/api/v1/reports", headers=auth(token),
                           json={"description": "Lamp kapot", "location": {"lat": EMMEN[0], "lon": EMMEN[1]}})
    assert response.status_code == 201


@pytest.mark.parametrize("role, allowed", [("agent", False), ("crew", True), ("head", True), ("admin", True)])
def test_photos_through_the_api_follow_the_pages(client, make_staff, auth, role, allowed):
    from tests.fake_platforms import jpeg_bytes

    _, token = make_staff(role)
    reference = _report()
    response = client.post(f"/api/v1/reports/{reference}/photos", headers=auth(token),
                           data={"file": (io.BytesIO(jpeg_bytes()), "p.jpg")}, content_type="multipart/form-data")
    assert response.status_code == (201 if allowed else 403)
