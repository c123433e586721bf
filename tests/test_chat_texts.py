"""Reply texts are written for chat: no e-mail promises, no "no further message" where the chat does send
one, every handling code of the categories has a Dutch and an English text, every category an English name."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from meldingen.notify.templates import DEFAULT_TEMPLATES, HANDLING_TEXTS

CATEGORIES = Path(__file__).resolve().parent.parent / "sample_data" / "categories" / "signalen_categories.json"
NOT_FOR_CHAT = ("e-mail", "email", "geen apart bericht", "no separate message")


def category_tree() -> dict:
    return json.loads(CATEGORIES.read_text(encoding="utf-8"))


def test_no_reply_text_promises_email_or_no_further_message():
    for key, bodies in DEFAULT_TEMPLATES.items():
        for language, body in bodies.items():
            assert not any(words in body.lower() for words in NOT_FOR_CHAT), (key, language)


def test_every_handling_code_has_a_chat_text_in_dutch_and_english():
    tree = category_tree()
    codes = {sub.get("handling") for main in tree["main_categories"] for sub in main["sub_categories"]}
    assert codes - {None} <= set(HANDLING_TEXTS)
    assert all(set(texts) == {"nl", "en"} for texts in HANDLING_TEXTS.values())
    # the handling times of Signalen's texts are kept
    assert "3 werkdagen" in HANDLING_TEXTS["A3DEC"]["nl"] and "3 working days" in HANDLING_TEXTS["A3DEC"]["en"]
    assert "3 weken" in HANDLING_TEXTS["A3WMC"]["nl"] and "5 werkdagen" in HANDLING_TEXTS["I5DMC"]["nl"]


def test_every_sample_category_has_an_english_name():
    tree = category_tree()
    for main in tree["main_categories"]:
        assert main.get("name_en"), main["slug"]
        for sub in main["sub_categories"]:
            assert sub.get("name_en") and sub["name_en"] != sub["name"] or sub["slug"] == "overig", sub["slug"]


def test_loading_the_sample_again_replaces_only_the_shipped_email_texts_and_fills_english_names(app):
    from meldingen.categories.models import Category
    from meldingen.extensions import db
    from meldingen.seed import load_sample_data

    messages = category_tree()["handling_messages"]
    litter = db.session.scalar(select(Category).where(Category.slug == "veeg-zwerfvuil"))
    bins = db.session.scalar(select(Category).where(Category.slug == "prullenbak-is-vol"))
    assert "e-mail" not in (litter.resident_text or "") and litter.name_en == "Street litter"
    litter.resident_text, litter.name_en = messages["A3DEC"], None  # as an earlier sample left it
    bins.resident_text = "Onze eigen tekst."  # an administrator's
    db.session.commit()
    load_sample_data()
    db.session.expire_all()
    assert litter.resident_text == HANDLING_TEXTS["A3DEC"]["nl"] and litter.name_en == "Street litter"
    assert bins.resident_text == "Onze eigen tekst."
