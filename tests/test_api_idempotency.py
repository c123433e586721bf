"""Safe retries: an Idempotency-Key on POST /api/v1/reports, on photo uploads and on Open311 POST requests.

The same key and body, by the same token or key, within 24 hours answers the first result again and makes
nothing new; another body with the same key is a 422; keys are stored, so another app (process) on the same
database replays too; two identical requests at the same instant make one report.
"""

from __future__ import annotations

import io
import threading
from datetime import timedelta

from conftest import make_app
from factories import AMSTERDAM
from fake_platforms import jpeg_bytes
from sqlalchemy import func, select, update

from meldingen.accounts.models import IdempotencyKey
from meldingen.extensions import db
from meldingen.reports.models import Report
from meldingen.timeutil import utcnow

BODY = {"description": "Losse stoeptegel, je struikelt erover", "location": {"lat": AMSTERDAM[0], "lon": AMSTERDAM[1]},
        "category": "onderhoud-stoep-straat-en-fietspad"}


def reports() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Report))


def post(client, token, key, body=BODY):
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/api/v1/reports", json=body, headers=headers)


def test_the_same_key_and_body_answer_the_first_report_again_and_make_nothing_new(client, make_staff):
    _, token = make_staff("agent", "DSP")
    before = reports()
    first = post(client, token, "6f1c2c1e-retry-1")
    again = post(client, token, "6f1c2c1e-retry-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert reports() == before + 1


def test_json_is_compared_as_data_not_as_spelling(client, make_staff):
    _, token = make_staff("agent", "DSP")
    first = post(client, token, "key-order")
    reordered = client.post("/api/v1/reports", data='{"category": "onderhoud-stoep-straat-en-fietspad",  '
                            f'"location": {{"lon": {AMSTERDAM[1]}, "lat": {AMSTERDAM[0]}}}, '
                            f'"description": "{BODY["description"]}"}}',
                            content_type="application/json",
                            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "key-order"})
    assert reordered.status_code == 201 and reordered.get_json()["reference"] == first.get_json()["reference"]


def test_another_body_with_the_same_key_is_a_422_problem_and_makes_nothing(client, make_staff):
    _, token = make_staff("agent", "DSP")
    post(client, token, "used-once")
    before = reports()
    other = post(client, token, "used-once", {**BODY, "description": "Lantaarnpaal kapot"})
    assert other.status_code == 422
    assert other.mimetype == "application/problem+json"
    problem = other.get_json()
    assert problem["status"] == 422 and problem["type"].endswith("idempotency-key-reused")
    assert problem["errors"][0]["field"] == "Idempotency-Key"
    assert reports() == before


def test_keys_are_per_token(client, make_staff):
    _, token = make_staff("agent", "DSP")
    _, colleague = make_staff("agent", "DSP")
    first = post(client, token, "shared-name")
    theirs = post(client, colleague, "shared-name")
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["reference"] != first.get_json()["reference"]


def test_without_the_header_every_post_makes_a_report(client, make_staff):
    _, token = make_staff("agent", "DSP")
    before = reports()
    assert post(client, token, None).status_code == post(client, token, None).status_code == 201
    assert reports() == before + 2


def test_a_refused_first_attempt_is_not_kept_so_the_retry_runs_again(client, make_staff):
    _, token = make_staff("agent", "DSP")
    refused = post(client, token, "fix-and-retry", {**BODY, "category": "no-such-category"})
    assert refused.status_code == 422 and "Idempotent-Replayed" not in refused.headers
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    fixed = post(client, token, "fix-and-retry", {**BODY, "category": "no-such-category"})
    assert fixed.status_code == 422 and "Idempotent-Replayed" not in fixed.headers


def test_a_key_older_than_24_hours_counts_as_new(client, make_staff):
    _, token = make_staff("agent", "DSP")
    first = post(client, token, "yesterday")
    db.session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    later = post(client, token, "yesterday")
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert later.get_json()["reference"] != first.get_json()["reference"]


def test_a_bad_key_is_a_400_problem(client, make_staff):
    _, token = make_staff("agent", "DSP")
    for key in ("", "x" * 256):
        response = post(client, token, key)
        assert response.status_code == 400 and response.mimetype == "application/problem+json", key
        assert "Idempotency-Key" in response.get_json()["detail"]


def test_the_key_holds_across_processes_on_the_same_database(app, client, make_staff, tmp_path):
    _, token = make_staff("agent", "DSP")
    first = post(client, token, "across-processes")
    other = make_app(tmp_path / "other", app.config["DATABASE_URL"])
    with other.app_context():
        again = post(other.test_client(), token, "across-processes")
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_two_identical_requests_at_the_same_instant_make_one_report(app, make_staff, tmp_path):
    _, token = make_staff("agent", "DSP")
    before = reports()
    db.session.remove()
    answers: list = []
    start = threading.Barrier(2)

    def send():
        with app.app_context():
            start.wait()
            response = post(app.test_client(), token, "at-once")
            answers.append((response.status_code, response.get_json()))
            db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert reports() == before + 1
    made = [body["reference"] for status, body in answers if status == 201]
    assert made and len(set(made)) == 1
    assert all(status in (201, 409) for status, _ in answers), answers


def test_a_photo_upload_with_the_same_key_stores_one_photo(client, make_staff):
    from meldingen.media.models import Photo

    _, token = make_staff("head", "DSP")  # a role that may add photos
    reference = post(client, token, None).get_json()["reference"]
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "photo-1"}
    image = jpeg_bytes()

    def upload(data):
        return client.post(f"/api/v1/reports/{reference}/photos", headers=headers,
                           data={"file": (io.BytesIO(data), "foto.jpg")}, content_type="multipart/form-data")

    first, again = upload(image), upload(image)
    assert first.status_code == again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 1
    assert upload(jpeg_bytes(color="blue")).status_code == 422


def test_open311_post_with_the_same_key_answers_the_same_request(client, make_staff):
    from test_open311 import post_request

    _, token = make_staff("agent", "DSP")
    before = reports()
    client.environ_base["HTTP_IDEMPOTENCY_KEY"] = "open311-retry"
    first = post_request(client, token)
    again = post_request(client, token)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert reports() == before + 1
    other = post_request(client, token, description="Lantaarnpaal kapot")
    assert other.status_code == 422 and "Idempotency-Key" in other.get_json()[0]["description"]
    assert reports() == before + 1


def test_a_photo_upload_with_a_nameless_part_beside_the_file_is_fingerprinted_not_a_500(client, make_staff):
    """schemathesis sent a multipart body with a part whose name could not be read (werkzeug gives it the name
    None) beside others and a key: the fingerprint sorted the fields as they came, a TypeError and a 500."""
    _, token = make_staff("head", "DSP")  # a role that may add photos
    reference = post(client, token, None).get_json()["reference"]
    boundary = "9c6f60f1bfbb8fa6b6312fd1dbd8a68d"
    parts = [b'Content-Disposition: form-data; name="a"\r\n\r\ntrue',
             b"Content-Disposition: form-data\r\n\r\nno name",
             b'Content-Disposition: form-data; name="file"; filename="foto.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
             + jpeg_bytes()]
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts) \
        + b"--" + boundary.encode() + b"--\r\n"
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "nameless-part"}

    def upload():
        return client.post(f"/api/v1/reports/{reference}/photos", headers=headers, data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")

    first, again = upload(), upload()
    assert first.status_code == 201, first.get_data(as_text=True)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
