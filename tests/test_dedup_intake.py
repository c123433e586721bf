"""Issue 24: a resident who shared place and words is never asked "what is the matter?" when the report is a
problem already known (merged), whatever order the messages came in."""

from __future__ import annotations

import pytest
from fake_chat_platform import RESIDENTS, USERS, install_send_routes, platform_config
from sqlalchemy import select

from meldingen.extensions import db
from meldingen.reports.models import Report

AMSTERDAM = (52.3877221, 4.8925727)  # Westerdoksdijk 40A
NEAR = (52.3877221 + 12 / 111_200, 4.8925727)  # 12 m north: the same light, another phone


@pytest.fixture
def fake(fake):
    install_send_routes(fake)
    return fake


@pytest.fixture
def app_config(fake):
    return platform_config(fake)


def asked_what_is_the_matter(resident) -> bool:
    return any("Wat is er aan de hand" in text or "What is the matter" in text for text in resident.replies())


@pytest.mark.parametrize("kind", ["whatsapp", "webchat"])
def test_a_resident_whose_light_is_known_says_still_broken_and_shares_the_place_and_is_not_asked_again(
        kind, client, fake):
    first = RESIDENTS[kind](client, fake, USERS[kind][0])
    first.send_text("De lantaarnpaal is kapot")
    first.send_location(*AMSTERDAM)
    known = db.session.scalars(select(Report)).one()
    # Days later the same resident writes about the light again, words first, then the place.
    first.send_text("De lantaarnpaal is nog steeds kapot")
    first.send_location(*NEAR)
    assert not asked_what_is_the_matter(first)
    db.session.expire_all()
    reports = db.session.scalars(select(Report).order_by(Report.id)).all()
    assert reports[0].id == known.id and all(r.duplicate_of_id in (None, known.id) for r in reports)
