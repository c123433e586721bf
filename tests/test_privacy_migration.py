"""Migration 0006 gives every existing report its public description, made by the same redaction, so public
outputs never fall back to a resident's words; categories about a person are marked."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import text

from meldingen.extensions import db
from tests.conftest import make_app


def test_existing_reports_get_a_redacted_public_description_on_upgrade(empty_database_url, tmp_path):
    app = make_app(tmp_path, empty_database_url)
    with app.app_context():
        upgrade(revision="0004")
        insert = [
            "INSERT INTO statuses (code, name, name_en, is_open, notify_residents, position) "
            "VALUES ('new', 'Gemeld', 'Reported', true, false, 0)",
            "INSERT INTO categories (id, slug, name, active, position, calendar_days, department_codes, "
            "dedup_use_assets, dedup_related_slugs, asset_types) VALUES "
            "(1, 'overlast-van-en-door-personen-of-groepen', 'Personen', true, 0, false, '[]', false, '[]', '[]'), "
            "(2, 'jongerenoverlast', 'Jongeren', true, 0, false, '[]', false, '[]', '[]'), "
            "(3, 'wegen', 'Wegen', true, 1, false, '[]', false, '[]', '[]'), "
            "(4, 'onderhoud-stoep', 'Stoep', true, 0, false, '[]', false, '[]', '[]')",
            "UPDATE categories SET parent_id = 1 WHERE id = 2",
            "UPDATE categories SET parent_id = 3 WHERE id = 4",
        ]
        reports = [(1, "M-AAA1", 4, "Tegel los bij Damrak 5, bel 06-12345678"),
                   (2, "M-AAA2", 2, "Jongeren bij Spuistraat 3, mvg Piet")]
        with db.engine.begin() as connection:
            for statement in insert:
                connection.execute(text(statement))
            for report_id, reference, category_id, description in reports:
                connection.execute(text(
                    "INSERT INTO reports (id, reference, category_id, category_confirmed, description, "
                    "address_unknown, channel, status, created_at, updated_at, reporters_count) VALUES "
                    "(:id, :ref, :cat, true, :d, false, 'whatsapp', 'new', :now, :now, 1)"),
                    {"id": report_id, "ref": reference, "cat": category_id, "d": description,
                     "now": "2026-01-01 10:00:00"})
        upgrade()
        with db.engine.connect() as connection:
            public = dict(connection.execute(text("SELECT reference, public_description FROM reports")).all())
            marked = dict(connection.execute(text("SELECT slug, person_related FROM categories")).all())
        assert public == {"M-AAA1": "Tegel los bij Damrak 5, bel [telefoonnummer]",
                          "M-AAA2": "Jongeren bij Spuistraat [huisnummer], mvg [naam]"}
        assert bool(marked["jongerenoverlast"]) and bool(marked["overlast-van-en-door-personen-of-groepen"])
        assert not bool(marked["onderhoud-stoep"])
        db.session.remove()
        db.engine.dispose()
