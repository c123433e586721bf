"""Scripted resident conversations, written for these tests: what residents type and send, in Dutch and
English, with their typos, on every platform, and the one right outcome of each.

A script is a platform, the steps the resident takes and what must be true afterwards. Adding one is adding
an entry to SCRIPTS. Steps:
  ("text", words)            a text message
  ("photo", caption|None)    a photo (a small JPEG), with or without a caption
  ("location", place)        a shared location: a key of PLACES
  ("press", id, title)       a button pressed (on Twilio, the numbered answer is typed)
  ("edit", n, words)         Telegram only: the resident edits the n-th message they sent
  ("staff", status, note)    staff change the status of the resident's last report (residents are told)
Expectations (all optional):
  reports       how many reports the resident made (merged ones included)
  description   the description of the resident's last report
  address       "street number" of the resident's last report
  category      the sub category slug of the last report
  known         True when the last report was merged into one already known
  last_reply    words the last reply contains ({ref}: the resident's last report's reference; {ref1}: the first)
  replies       how many replies the resident got in all
  never         words no reply may contain
"""

from __future__ import annotations

PLACES = {
    "westerdoksdijk": (52.3877221, 4.8925727),  # Westerdoksdijk 40A
    "silodam": (52.3902604, 4.8913251),  # Silodam 1A
    "van_diemenkade": (52.3907301, 4.8890497),  # Van Diemenkade 5A
    "jan_mensplein": (52.387646, 4.8894447),  # Jan Mensplein 5
    "vierwindenstraat": (52.3875611, 4.8863609),  # Vierwindenstraat 201
    "zoutkeetsgracht": (52.3886458, 4.8899476),  # Zoutkeetsgracht 2
    "barentszstraat": (52.3892367, 4.8893975),  # Barentszstraat 4
    "dirk_hartoghstraat": (52.3893347, 4.8870607),  # Dirk Hartoghstraat 1
    "rotterdam": (51.9225, 4.47917),
    "brussels": (50.8467, 4.3525),
}

# Words no reply to a chat resident may hold: e-mail promises and "no further message" (the chat does tell).
NO_EMAIL = ["e-mail", "email", "geen apart bericht", "via mail"]
ASKS_WHERE = "Waar is het probleem"
ASKS_WHAT = "Wat is er aan de hand"

SCRIPTS: list[dict] = [
    # --- a problem and its address in one message (issue 12: the address was used, the problem dropped) ---
    {"name": "problem_and_address_in_one_short_message", "platform": "webchat",
     "steps": [("text", "Lantaarnpaal kapot bij Westerdoksdijk 40A")],
     "reports": 1, "description": "Lantaarnpaal kapot", "address": "Westerdoksdijk 40A",
     "category": "straatverlichting-openbare-klok", "last_reply": ["Bedankt voor uw melding", "{ref}"],
     "never": [ASKS_WHAT, ASKS_WHERE] + NO_EMAIL, "replies": 1},
    {"name": "problem_and_address_on_whatsapp", "platform": "whatsapp",
     "steps": [("text", "Lantaarnpaal kapot bij Westerdoksdijk 40A")],
     "reports": 1, "description": "Lantaarnpaal kapot", "address": "Westerdoksdijk 40A",
     "last_reply": ["{ref}"], "never": [ASKS_WHAT] + NO_EMAIL},
    {"name": "address_first_then_problem_in_one_sentence", "platform": "telegram",
     "steps": [("text", "Op de Zoutkeetsgracht 2 ligt een losse stoeptegel")],
     "reports": 1, "description": "ligt een losse stoeptegel", "address": "Zoutkeetsgracht 2",
     "category": "onderhoud-stoep-straat-en-fietspad", "never": [ASKS_WHAT]},
    {"name": "address_with_postcode_and_city_inside_the_sentence", "platform": "twilio",
     "steps": [("text", "Container zit vol, Barentszstraat 4, 1013 NP Amsterdam")],
     "reports": 1, "description": "Container zit vol", "address": "Barentszstraat 4", "never": [ASKS_WHAT]},
    {"name": "typo_in_street_inside_a_sentence", "platform": "webchat",
     "steps": [("text", "Grote kuil in de weg voor Vierwindestraat 201")],
     "reports": 1, "description": "Grote kuil in de weg", "address": "Vierwindenstraat 201",
     "never": [ASKS_WHAT]},
    {"name": "lower_case_street_and_letter_apart", "platform": "whatsapp",
     "steps": [("text", "zwerfvuil overal bij silodam 1 a")],
     "reports": 1, "description": "zwerfvuil overal", "address": "Silodam 1A"},
    {"name": "english_problem_and_address", "platform": "telegram",
     "steps": [("text", "Broken street light near Westerdoksdijk 40A")],
     "reports": 1, "description": "Broken street light", "address": "Westerdoksdijk 40A",
     "last_reply": ["Thank you for your report", "{ref}"], "never": NO_EMAIL},
    {"name": "caption_with_address_on_a_photo_webchat", "platform": "webchat",
     "steps": [("photo", "Graffiti op de muur bij Dirk Hartoghstraat 1")],
     "reports": 1, "description": "Graffiti op de muur", "address": "Dirk Hartoghstraat 1",
     "category": "graffiti-wildplak", "never": [ASKS_WHAT, ASKS_WHERE]},
    {"name": "caption_with_address_on_a_photo_whatsapp", "platform": "whatsapp",
     "steps": [("photo", "Fietswrak tegen het hek, Jan Mensplein 5")],
     "reports": 1, "description": "Fietswrak tegen het hek", "address": "Jan Mensplein 5",
     "never": [ASKS_WHAT, ASKS_WHERE]},
    {"name": "caption_with_address_on_a_photo_telegram", "platform": "telegram",
     "steps": [("photo", "Vuilniszakken naast de container bij Van Diemenkade 5A")],
     "reports": 1, "description": "Vuilniszakken naast de container", "address": "Van Diemenkade 5A",
     "never": [ASKS_WHAT, ASKS_WHERE]},
    {"name": "caption_with_address_on_a_photo_twilio", "platform": "twilio",
     "steps": [("photo", "Boomtak hangt over het fietspad bij Zoutkeetsgracht 2")],
     "reports": 1, "description": "Boomtak hangt over het fietspad", "address": "Zoutkeetsgracht 2",
     "never": [ASKS_WHAT, ASKS_WHERE]},
    {"name": "address_alone_is_only_the_place", "platform": "whatsapp",
     "steps": [("text", "Barentszstraat 4"), ("text", "Losse stoeptegel")],
     "reports": 1, "description": "Losse stoeptegel", "address": "Barentszstraat 4"},
    {"name": "unknown_address_alone_is_asked_again", "platform": "webchat",
     "steps": [("text", "Er ligt glas op het fietspad"), ("text", "Kerkstraat 12, Emmen")],
     "reports": 0, "last_reply": ["Kerkstraat 12"]},
    {"name": "a_number_in_the_words_is_no_address", "platform": "telegram",
     "steps": [("text", "Al 3 weken een gat in de weg"), ("location", "vierwindenstraat")],
     "reports": 1, "description": "Al 3 weken een gat in de weg", "address": "Vierwindenstraat 201"},

    # --- status questions (issue 12: taken as the start of a new report) ---
    {"name": "status_question_dutch_after_a_report", "platform": "webchat",
     "steps": [("text", "Lantaarnpaal kapot bij Westerdoksdijk 40A"), ("text", "Hoe staat het met mijn melding?")],
     "reports": 1, "last_reply": ["{ref}", "Gemeld", "uiterlijk"], "never": [ASKS_WHERE]},
    {"name": "is_it_solved_yet", "platform": "whatsapp",
     "steps": [("text", "Losse tegel bij Barentszstraat 4"), ("text", "Is het al opgelost?")],
     "reports": 1, "last_reply": ["{ref}", "Gemeld"], "never": [ASKS_WHERE]},
    {"name": "status_question_english", "platform": "telegram",
     "steps": [("text", "Broken street light near Westerdoksdijk 40A"), ("text", "What is the status of my report?")],
     "reports": 1, "last_reply": ["{ref}", "Reported", "Street lighting"], "never": ["Where is the problem"]},
    {"name": "status_question_then_location_makes_no_junk_report", "platform": "whatsapp",
     "steps": [("text", "Graffiti bij Dirk Hartoghstraat 1"), ("text", "Is het al opgelost?"),
               ("location", "silodam")],
     "reports": 1, "last_reply": [ASKS_WHAT]},
    {"name": "status_question_with_typos", "platform": "twilio",
     "steps": [("text", "Container vol bij Jan Mensplein 5"), ("text", "hoe staat het met mijn meling??")],
     "reports": 1, "last_reply": ["{ref}", "Gemeld"]},
    {"name": "status_question_without_any_report", "platform": "webchat",
     "steps": [("text", "Is het al opgelost?")],
     "reports": 0, "last_reply": ["geen meldingen"], "never": [ASKS_WHERE]},
    {"name": "status_question_when_nothing_is_open", "platform": "telegram",
     "steps": [("text", "Losse stoeptegel bij Barentszstraat 4"), ("staff", "done", "Tegel ligt weer vast."),
               ("text", "Wanneer wordt het opgelost?")],
     "reports": 1, "last_reply": ["geen open meldingen", "{ref}", "Afgehandeld"]},
    {"name": "status_lists_open_reports_newest_first", "platform": "webchat",
     "steps": [("text", "Losse stoeptegel bij Barentszstraat 4"), ("text", "nieuwe melding"),
               ("text", "Lantaarnpaal kapot bij Westerdoksdijk 40A"), ("text", "status")],
     "reports": 2, "last_reply": ["open meldingen", "{ref}", "{ref1}"]},
    {"name": "status_with_reference_in_a_sentence", "platform": "whatsapp",
     "steps": [("text", "Prullenbak zit vol bij Silodam 1A"), ("text", "Is er al nieuws over {ref}?")],
     "reports": 1, "last_reply": ["{ref}", "Gemeld"]},
    {"name": "status_with_a_bare_reference", "platform": "twilio",
     "steps": [("text", "Graffiti op de brug bij Van Diemenkade 5A"), ("text", "{ref}")],
     "reports": 1, "last_reply": ["{ref}", "Gemeld"]},
    {"name": "status_of_someone_elses_reference", "platform": "telegram",
     "steps": [("text", "status M-ZZZZ22")],
     "reports": 0, "last_reply": ["geen melding M-ZZZZ22"]},
    {"name": "any_update_in_english", "platform": "webchat",
     "steps": [("text", "Rubbish dumped outside Vierwindenstraat 201"), ("text", "any update?")],
     "reports": 1, "last_reply": ["{ref}", "Reported"]},
    {"name": "status_after_staff_note", "platform": "whatsapp",
     "steps": [("text", "Kapotte bank bij Jan Mensplein 5"), ("staff", "planned", "Monteur komt dinsdag."),
               ("text", "Wanneer komen jullie?")],
     "reports": 1, "last_reply": ["{ref}", "Ingepland"]},

    # --- thanks (issue 12: "Top, dank je wel!" started a new draft) ---
    {"name": "thanks_after_the_reference", "platform": "webchat",
     "steps": [("text", "Lantaarnpaal kapot bij Westerdoksdijk 40A"), ("text", "Top, dank je wel!")],
     "reports": 1, "last_reply": ["Graag gedaan"], "never": [ASKS_WHERE, ASKS_WHAT], "replies": 2},
    {"name": "thanks_with_typo", "platform": "telegram",
     "steps": [("text", "Losse stoeptegel bij Barentszstraat 4"), ("text", "bedamkt!!")],
     "reports": 1, "last_reply": ["Graag gedaan"], "never": [ASKS_WHERE]},
    {"name": "thumbs_up", "platform": "whatsapp",
     "steps": [("text", "Container vol bij Silodam 1A"), ("text", "👍")],
     "reports": 1, "last_reply": ["Graag gedaan"], "never": [ASKS_WHERE]},
    {"name": "thanks_in_english", "platform": "twilio",
     "steps": [("text", "Fallen tree near Zoutkeetsgracht 2"), ("text", "Thanks a lot!")],
     "reports": 1, "last_reply": ["welcome"], "never": ["Where is the problem"]},
    {"name": "ok_after_the_reference", "platform": "webchat",
     "steps": [("text", "Graffiti bij Dirk Hartoghstraat 1"), ("text", "ok")],
     "reports": 1, "last_reply": ["Graag gedaan"], "never": [ASKS_WHERE]},
    {"name": "thanks_for_the_quick_reply", "platform": "telegram",
     "steps": [("text", "Fietswrak bij Jan Mensplein 5"), ("text", "Dankjewel voor de snelle reactie")],
     "reports": 1, "last_reply": ["Graag gedaan"], "never": [ASKS_WHERE]},
    {"name": "thanks_during_a_draft_starts_nothing", "platform": "whatsapp",
     "steps": [("text", "Losse stoeptegel"), ("text", "bedankt"), ("location", "barentszstraat")],
     "reports": 1, "description": "Losse stoeptegel", "never": ["Graag gedaan"]},

    # --- corrections ---
    {"name": "correction_of_the_house_number", "platform": "webchat",
     "steps": [("text", "Barentszstraat 4"), ("text", "nee, het is bij nummer 12"), ("text", "Losse stoeptegel")],
     "reports": 1, "address": "Barentszstraat 12", "description": "Losse stoeptegel"},
    {"name": "correction_of_the_words", "platform": "telegram",
     "steps": [("photo", None), ("text", "Lantaarnpaal kapot"), ("text", "sorry, ik bedoel het verkeerslicht"),
               ("location", "westerdoksdijk")],
     "reports": 1, "description": "het verkeerslicht"},
    {"name": "correction_of_the_whole_address", "platform": "whatsapp",
     "steps": [("text", "Silodam 1A"), ("text", "oeps, Van Diemenkade 5A"), ("text", "Zwerfvuil in de bosjes")],
     "reports": 1, "address": "Van Diemenkade 5A", "description": "Zwerfvuil in de bosjes"},
    {"name": "correction_in_english", "platform": "twilio",
     "steps": [("text", "Barentszstraat 4"), ("text", "sorry I meant number 12"), ("text", "Loose paving tile")],
     "reports": 1, "address": "Barentszstraat 12"},
    {"name": "correction_after_the_report_is_added_for_staff", "platform": "webchat",
     "steps": [("text", "Losse stoeptegel bij Barentszstraat 4"), ("text", "nee, het is bij nummer 12")],
     "reports": 1, "last_reply": ["{ref}"], "never": [ASKS_WHERE]},

    # --- Telegram edits replace the words they edit (issue 12: appended) ---
    {"name": "telegram_edit_replaces_the_description", "platform": "telegram",
     "steps": [("photo", None), ("text", "Lantaarnpaal kapt"), ("edit", 1, "Lantaarnpaal kapot"),
               ("location", "westerdoksdijk")],
     "reports": 1, "description": "Lantaarnpaal kapot"},
    {"name": "telegram_edit_replaces_the_address", "platform": "telegram",
     "steps": [("text", "Silodam 1A"), ("edit", 0, "Jan Mensplein 5"), ("text", "Container zit vol")],
     "reports": 1, "address": "Jan Mensplein 5", "description": "Container zit vol"},
    {"name": "telegram_edit_after_the_report_is_added_for_staff", "platform": "telegram",
     "steps": [("text", "Losse tegel bij Barentszstraat 4"), ("edit", 0, "Losse tegel bij Barentszstraat 12")],
     "reports": 1, "last_reply": ["aangepaste bericht", "{ref}"]},

    # --- cancel, start over ---
    {"name": "cancel_a_draft", "platform": "webchat",
     "steps": [("text", "Losse stoeptegel"), ("text", "laat maar"), ("location", "barentszstraat")],
     "reports": 0, "last_reply": [ASKS_WHAT]},
    {"name": "cancel_in_english", "platform": "telegram",
     "steps": [("text", "There is a broken street light"), ("text", "never mind")],
     "reports": 0, "last_reply": ["stopped"]},
    {"name": "cancel_with_nothing_in_progress", "platform": "whatsapp",
     "steps": [("text", "stop")],
     "reports": 0, "last_reply": ["geen melding bezig"]},
    {"name": "cancel_with_typo", "platform": "twilio",
     "steps": [("text", "Gat in de weg"), ("text", "annuleeren")],
     "reports": 0, "last_reply": ["stoppen met deze melding"]},
    {"name": "new_report_after_a_report", "platform": "webchat",
     "steps": [("text", "Losse stoeptegel bij Barentszstraat 4"), ("text", "nieuwe melding"),
               ("text", "Boom omgewaaid bij Silodam 1A")],
     "reports": 2, "address": "Silodam 1A", "description": "Boom omgewaaid"},

    # --- greetings ---
    {"name": "greeting_alone", "platform": "whatsapp",
     "steps": [("text", "Goedemorgen")],
     "reports": 0, "last_reply": ["Hallo!"], "replies": 1},
    {"name": "greeting_with_typo", "platform": "webchat",
     "steps": [("text", "hallooo")],
     "reports": 0, "last_reply": ["Hallo!"]},
    {"name": "greeting_then_problem_in_one_message", "platform": "telegram",
     "steps": [("text", "Hallo, er ligt een boom op de weg bij Zoutkeetsgracht 2")],
     "reports": 1, "description": "er ligt een boom op de weg", "address": "Zoutkeetsgracht 2"},
    {"name": "english_greeting", "platform": "twilio",
     "steps": [("text", "Hi there")],
     "reports": 0, "last_reply": ["Hello!"]},
    {"name": "telegram_start_command", "platform": "telegram",
     "steps": [("text", "/start")],
     "reports": 0, "last_reply": ["Hallo!"]},

    # --- a new problem, the slots in any order ---
    {"name": "photo_location_words", "platform": "whatsapp",
     "steps": [("photo", None), ("location", "westerdoksdijk"), ("text", "Losse stoeptegel, je struikelt erover")],
     "reports": 1, "description": "Losse stoeptegel, je struikelt erover", "address": "Westerdoksdijk 40A",
     "never": NO_EMAIL},
    {"name": "words_then_pin", "platform": "telegram",
     "steps": [("text", "Hondenpoep op de stoep, al dagen"), ("location", "dirk_hartoghstraat")],
     "reports": 1, "description": "Hondenpoep op de stoep, al dagen"},
    {"name": "english_words_then_pin", "platform": "webchat",
     "steps": [("text", "The bin is overflowing"), ("location", "silodam")],
     "reports": 1, "last_reply": ["Thank you for your report"], "never": NO_EMAIL},
    {"name": "outside_the_service_area", "platform": "twilio",
     "steps": [("text", "Boom omgevallen over het fietspad"), ("location", "rotterdam")],
     "reports": 0, "last_reply": ["Rotterdam"]},
    {"name": "outside_the_netherlands", "platform": "whatsapp",
     "steps": [("text", "Pothole in the road"), ("location", "brussels")],
     "reports": 0, "last_reply": ["not in the Netherlands"]},
    {"name": "second_problem_after_a_report", "platform": "telegram",
     "steps": [("text", "Losse stoeptegel bij Barentszstraat 4"), ("text", "En verderop is een lantaarnpaal kapot")],
     "reports": 1, "last_reply": [ASKS_WHERE]},
    {"name": "same_problem_twice_is_merged", "platform": "webchat",
     "steps": [("text", "Lantaarnpaal kapot bij Westerdoksdijk 40A"), ("text", "nieuwe melding"),
               ("text", "De lantaarnpaal doet het niet bij Westerdoksdijk 40A")],
     "reports": 2, "known": True, "last_reply": ["al bij ons bekend", "{ref1}"]},

    # --- unsure: a message that may be about the report already made is asked about ---
    {"name": "still_broken_is_asked_about", "platform": "whatsapp",
     "steps": [("text", "Lantaarnpaal kapot bij Westerdoksdijk 40A"), ("text", "De lamp is nog steeds kapot")],
     "reports": 1, "last_reply": ["Bedoelt u uw melding {ref}"], "never": [ASKS_WHERE]},
    {"name": "still_broken_yes_gives_the_status", "platform": "telegram",
     "steps": [("text", "Lantaarnpaal kapot bij Westerdoksdijk 40A"), ("text", "De lamp is nog steeds kapot"),
               ("press", "about:yes", "Ja")],
     "reports": 1, "last_reply": ["{ref}", "Gemeld"]},
    {"name": "still_broken_no_starts_a_new_report", "platform": "webchat",
     "steps": [("text", "Container vol bij Silodam 1A"), ("text", "Er ligt nog steeds glas op de weg"),
               ("press", "about:no", "Nee"), ("location", "jan_mensplein")],
     "reports": 2, "description": "Er ligt nog steeds glas op de weg", "address": "Jan Mensplein 5"},
    {"name": "still_broken_answered_by_typing_yes", "platform": "twilio",
     "steps": [("text", "Lantaarnpaal kapot bij Westerdoksdijk 40A"), ("text", "lamp is alweer kapot"),
               ("text", "ja")],
     "reports": 1, "last_reply": ["{ref}", "Gemeld"]},

    # --- a person ---
    {"name": "asking_for_a_person", "platform": "webchat",
     "steps": [("text", "Ik wil graag een medewerker spreken")],
     "reports": 0, "last_reply": ["medewerker"]},
    {"name": "asking_for_a_person_in_english", "platform": "whatsapp",
     "steps": [("text", "Can I talk to a real person please")],
     "reports": 0, "last_reply": ["member of staff"]},
]
