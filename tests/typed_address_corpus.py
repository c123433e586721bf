"""Resident conversations about the place they typed, written for these tests (issue 21, part 1), against the
real BAG addresses of sample_data/geodata/adressen_amsterdam_bag_sample.csv. Same script format as
tests/conversation_corpus.py (steps and expectations), with a `kind`:

  matched        the typed number shares its map point with other numbers (a building's doors): the report holds
                 the typed address, not the first door at that point (Silodam 5 was stored as Silodam 1A)
  suffix_only    the number exists only with a letter or suffix (Zoutkeetsplein 5: 5-1, 5-2, 5-3, 5-H): found,
                 the plainest door stored
  number_later   a house number alone ("nr 14", "huisnummer 7", "14") after a street or a postcode was given
  not_found      an address that does not exist (a known street without that number, or an unknown street):
                 the resident is told which address was not found, not asked the generic "where is it?"

Besides the expectations of tests/conversation_corpus.py: `last_never`, words the last reply may not contain.
"""

from __future__ import annotations

ASKS_WHERE = "Waar is het probleem"
ASKS_WHERE_EN = "Where is the problem"
NOT_FOUND = "niet vinden"
NOT_FOUND_EN = "cannot find"
ASKS_NUMBER = "huisnummer"


def _matched(name, platform, text, address, description=None):
    script = {"name": f"matched_{name}", "kind": "matched", "platform": platform, "steps": [("text", text)],
              "reports": 1, "address": address, "never": [ASKS_WHERE, NOT_FOUND]}
    if description is not None:
        script["description"] = description
    return script


def _suffix(name, platform, text, address, description=None):
    script = {"name": f"suffix_{name}", "kind": "suffix_only", "platform": platform, "steps": [("text", text)],
              "reports": 1, "address": address, "never": [ASKS_WHERE, NOT_FOUND]}
    if description is not None:
        script["description"] = description
    return script


def _later(name, platform, steps, address, description=None, never=(ASKS_WHERE_EN, NOT_FOUND, NOT_FOUND_EN)):
    script = {"name": f"later_{name}", "kind": "number_later", "platform": platform, "steps": steps,
              "reports": 1, "address": address, "never": list(never)}
    if description is not None:
        script["description"] = description
    return script


def _missing(name, platform, steps, looked_for, english=False):
    """Not found; on a street the address table knows, the reply says the house number is what is unknown."""
    known_street = looked_for.split()[0] in KNOWN_STREET_WORDS
    number_unknown = ("that house number" if english else "dat huisnummer") if known_street else None
    return {"name": f"missing_{name}", "kind": "not_found", "platform": platform, "steps": steps, "reports": 0,
            "last_reply": [NOT_FOUND_EN if english else NOT_FOUND, looked_for] + [number_unknown] * known_street,
            "last_never": [ASKS_WHERE_EN if english else ASKS_WHERE] + ["dat huisnummer"] * (not known_street)}


# First words of the streets of the sample (a not-found number on them is answered as a number not found).
KNOWN_STREET_WORDS = {"Westerdoksdijk", "Silodam", "Zoutkeetsgracht", "Jan", "Houtmankade", "Zandhoek",
                      "Barentszstraat"}


SCRIPTS: list[dict] = [
    # --- matched: the typed door, not the first door at its point ---
    _matched("silodam_5", "whatsapp", "Kapotte lantaarnpaal bij Silodam 5", "Silodam 5", "Kapotte lantaarnpaal"),
    _matched("silodam_3_lower", "telegram", "zwerfvuil bij silodam 3", "Silodam 3", "zwerfvuil"),
    _matched("silodam_nr_7", "webchat", "Losse stoeptegel op de Silodam nr 7", "Silodam 7"),
    _matched("silodam_2_caps", "twilio", "GRAFFITI OP DE MUUR SILODAM 2", "Silodam 2"),
    _matched("silodam_101", "whatsapp", "Er ligt een fietswrak bij silodam 101", "Silodam 101", "Er ligt een fietswrak"),
    _matched("silodam_178", "telegram", "Silodam 178: de lamp doet het niet", "Silodam 178", "de lamp doet het niet"),
    _matched("jan_mensplein_20", "webchat", "Container vol bij Jan Mensplein 20", "Jan Mensplein 20", "Container vol"),
    _matched("jan_mensplein_16", "whatsapp", "jan mensplein 16 daar ligt afval naast de bak", "Jan Mensplein 16"),
    _matched("jan_mensplein_12_typo", "telegram", "Zwerfvuil bij Jan Mensplijn 12", "Jan Mensplein 12"),
    _matched("jan_mensplein_22_postcode", "twilio", "Kapotte bank, Jan Mensplein 22, 1013 CT Amsterdam",
             "Jan Mensplein 22", "Kapotte bank"),
    _matched("jan_mensplein_11", "webchat", "Hondenpoep op de stoep voor Jan Mensplein 11", "Jan Mensplein 11"),
    _matched("realengracht_188", "whatsapp", "Boom hangt over de weg bij Realengracht 188", "Realengracht 188",
             "Boom hangt over de weg"),
    _matched("realengracht_208", "telegram", "realengracht 208 lantaarnpaal knippert", "Realengracht 208"),
    _matched("realengracht_206_postcode", "webchat", "Volle prullenbak 1013 AV 206", "Realengracht 206"),
    _matched("coffijboomstraat_10", "twilio", "Losse tegel coffijboomstraat 10", "Coffijboomstraat 10"),
    _matched("coffijboomstraat_4_abbreviation", "whatsapp", "Fiets tegen de lantaarnpaal, Coffijboomstr. 4",
             "Coffijboomstraat 4"),
    _matched("coffijboomstraat_120", "telegram", "Glas op straat bij Coffijboomstraat 120", "Coffijboomstraat 120"),
    _matched("westerdok_816", "webchat", "Afval naast de container, Westerdok 816", "Westerdok 816"),
    _matched("westerdoksdijk_601", "twilio", "Lamp kapot bij Westerdoksdijk 601", "Westerdoksdijk 601"),
    _matched("westerdoksdijk_673_typo", "whatsapp", "gat in de weg westerdoksdyk 673", "Westerdoksdijk 673"),
    _matched("van_diemenstraat_78", "telegram", "Er staat een auto zonder kenteken bij Van Diemenstraat 78",
             "Van Diemenstraat 78"),
    _matched("van_diemenstraat_422_abbreviation", "webchat", "losse stoeptegel v. diemenstraat 422",
             "Van Diemenstraat 422"),
    _matched("vierwindenstraat_235", "twilio", "Rommel op de stoep Vierwindenstraat 235", "Vierwindenstraat 235"),
    _matched("vierwindenstraat_253_typo", "whatsapp", "vuilniszakken bij vierwindestraat 253", "Vierwindenstraat 253"),
    _matched("zoutkeetsgracht_13", "telegram", "Zoutkeetsgracht 13 er ligt glas", "Zoutkeetsgracht 13"),
    _matched("zoutkeetsgracht_25", "webchat", "Kapotte stoep bij zoutkeetsgracht 25", "Zoutkeetsgracht 25"),
    _matched("bokkinghangen_17", "twilio", "Lantaarnpaal doet het niet Bokkinghangen 17", "Bokkinghangen 17"),
    _matched("barentszstraat_181", "whatsapp", "Er ligt grofvuil bij Barentszstraat 181", "Barentszstraat 181"),
    _matched("barentszstraat_169", "telegram", "barentszstr 169 gat in de stoep", "Barentszstraat 169"),
    _matched("dirk_hartoghstraat_38", "webchat", "Graffiti op de deur van Dirk Hartoghstraat 38",
             "Dirk Hartoghstraat 38"),
    _matched("dirk_hartoghstraat_26", "twilio", "Afval bij dirk hartoghstraat 26", "Dirk Hartoghstraat 26"),
    _matched("van_neckstraat_45", "whatsapp", "Losliggende tegels voor Van Neckstraat 45", "Van Neckstraat 45"),
    _matched("roggeveenstraat_216", "telegram", "Roggeveenstraat 216, kapotte lamp", "Roggeveenstraat 216"),
    _matched("van_heemskerckstraat_36", "webchat", "Fietswrak bij Van Heemskerckstraat 36",
             "Van Heemskerckstraat 36"),
    _matched("english_silodam_9", "telegram", "Broken street light near Silodam 9", "Silodam 9",
             "Broken street light"),
    _matched("english_jan_mensplein_18", "whatsapp", "There is rubbish outside Jan Mensplein 18", "Jan Mensplein 18"),
    {"name": "matched_address_then_problem", "kind": "matched", "platform": "webchat",
     "steps": [("text", "Silodam 6"), ("text", "Er ligt glas op de stoep")],
     "reports": 1, "address": "Silodam 6", "description": "Er ligt glas op de stoep", "never": [ASKS_WHERE]},
    {"name": "matched_problem_then_address", "kind": "matched", "platform": "whatsapp",
     "steps": [("text", "De lantaarnpaal is kapot"), ("text", "Jan Mensplein 30")],
     "reports": 1, "address": "Jan Mensplein 30", "description": "De lantaarnpaal is kapot"},
    {"name": "matched_caption_on_a_photo", "kind": "matched", "platform": "telegram",
     "steps": [("photo", "Vuilniszakken naast de container bij Realengracht 190")],
     "reports": 1, "address": "Realengracht 190", "never": [ASKS_WHERE]},

    # --- suffix only: the number exists only as 5-1, 5-2, … or 40A, 40B, … ---
    _suffix("zoutkeetsplein_5", "whatsapp", "Kapotte lamp op het Zoutkeetsplein 5", "Zoutkeetsplein 5-1",
            "Kapotte lamp"),
    _suffix("zoutkeetsplein_2_lower", "telegram", "zwerfvuil zoutkeetsplein 2", "Zoutkeetsplein 2-1"),
    _suffix("zoutkeetsplein_1_abbreviation", "webchat", "Glas op straat bij Zoutkeetspl. 1", "Zoutkeetsplein 1-1"),
    _suffix("zoutkeetsplein_3_postcode", "twilio", "Losse tegel 1013 LD 3", "Zoutkeetsplein 3-1"),
    _suffix("barentszplein_1", "whatsapp", "Container vol bij Barentszplein 1", "Barentszplein 1-1"),
    _suffix("barentszplein_3", "telegram", "barentszplein 3 fietswrak tegen het hek", "Barentszplein 3-2"),
    _suffix("westerdoksdijk_40", "webchat", "Lantaarnpaal kapot bij Westerdoksdijk 40", "Westerdoksdijk 40A"),
    _suffix("houtmankade_5", "twilio", "Boomtak op het fietspad Houtmankade 5", "Houtmankade 5A"),
    _suffix("houtmankade_3_nr", "whatsapp", "afval bij houtmankade nr 3", "Houtmankade 3A"),
    _suffix("zandhoek_4", "telegram", "Zandhoek 4: stoeptegel los", "Zandhoek 4-2"),
    _suffix("zandhoek_8", "webchat", "Er ligt glas bij Zandhoek 8", "Zandhoek 8-1"),
    _suffix("realengracht_2", "twilio", "Kapotte bank realengracht 2", "Realengracht 2-1"),
    _suffix("realengracht_104", "whatsapp", "Fietsen op de stoep bij Realengracht 104", "Realengracht 104A"),
    _suffix("vierwindendwarsstraat_6", "telegram", "Graffiti Vierwindendwarsstraat 6", "Vierwindendwarsstraat 6-1"),
    _suffix("vierwindendwarsstraat_9_typo", "webchat", "gat in de weg vierwindendwarstraat 9",
            "Vierwindendwarsstraat 9-1"),
    _suffix("van_diemenstraat_420", "twilio", "Zwerfvuil bij Van Diemenstraat 420", "Van Diemenstraat 420-1"),
    _suffix("van_diemenkade_30", "whatsapp", "Lamp kapot Van Diemenkade 30", "Van Diemenkade 30A"),
    _suffix("silodam_461", "telegram", "Er drijft afval bij Silodam 461", "Silodam 461A"),
    _suffix("prinseneiland_12", "webchat", "Losse stoeptegel bij Prinseneiland 12", "Prinseneiland 12B"),
    _suffix("zoutkeetsgracht_114", "twilio", "Fietswrak bij Zoutkeetsgracht 114", "Zoutkeetsgracht 114M"),
    _suffix("english_zoutkeetsplein_5", "telegram", "Broken bench at Zoutkeetsplein 5", "Zoutkeetsplein 5-1",
            "Broken bench"),
    _suffix("english_barentszplein_1", "whatsapp", "Overflowing bin near Barentszplein 1", "Barentszplein 1-1"),
    _suffix("nr_with_a_dot", "whatsapp", "Losse tegel bij Zoutkeetsplein nr. 5", "Zoutkeetsplein 5-1",
            "Losse tegel"),
    _suffix("english_no_dot", "telegram", "Broken light at Houtmankade no. 3", "Houtmankade 3A"),
    {"name": "suffix_address_alone_then_problem", "kind": "suffix_only", "platform": "webchat",
     "steps": [("text", "Zoutkeetsplein 5"), ("text", "Er ligt grofvuil")],
     "reports": 1, "address": "Zoutkeetsplein 5-1", "description": "Er ligt grofvuil"},

    # --- a house number later: the street or postcode came first ---
    _later("houtmankade_nr_5", "whatsapp", [("text", "Er ligt grofvuil bij de houtmankade"), ("text", "nr 5")],
           "Houtmankade 5A", "Er ligt grofvuil"),
    _later("houtmankade_nummer_3b", "telegram",
           [("text", "Kapotte lamp aan de Houtmankade"), ("text", "nummer 3b")], "Houtmankade 3B", "Kapotte lamp"),
    _later("jan_mensplein_nr_14", "webchat",
           [("text", "Container vol op het jan mensplein"), ("text", "nr 14")], "Jan Mensplein 14"),
    _later("jan_mensplein_bare_20", "twilio", [("text", "afval naast de bak bij jan mensplein"), ("text", "20")],
           "Jan Mensplein 20"),
    _later("silodam_huisnummer_7", "whatsapp", [("text", "Losse tegel op de silodam"), ("text", "huisnummer 7")],
           "Silodam 7", "Losse tegel"),
    _later("silodam_op_5", "telegram", [("text", "Zwerfvuil bij silodam"), ("text", "op 5")], "Silodam 5"),
    _later("barentszstraat_bij_nummer_14", "webchat",
           [("text", "Lantaarnpaal kapot in de Barentszstraat"), ("text", "bij nummer 14")], "Barentszstraat 14"),
    _later("vierwindenstraat_nr_dot", "twilio",
           [("text", "gat in de weg langs de vierwindenstraat"), ("text", "Nr. 211")], "Vierwindenstraat 211"),
    _later("zoutkeetsgracht_typo_street", "whatsapp",
           [("text", "glas op de stoep bij de zoutkeetsgrcht"), ("text", "nr 25")], "Zoutkeetsgracht 25"),
    _later("zoutkeetsgracht_nr_glued", "telegram",
           [("text", "Stoeptegel los op de Zoutkeetsgracht"), ("text", "nr12")], "Zoutkeetsgracht 12"),
    _later("dirk_hartoghstraat_numer_typo", "webchat",
           [("text", "Graffiti bij de Dirk Hartoghstraat"), ("text", "numer 18")], "Dirk Hartoghstraat 18"),
    _later("roggeveenstraat_huisnr", "twilio",
           [("text", "Bladeren verstoppen de put op de roggeveenstraat"), ("text", "huisnr 47")],
           "Roggeveenstraat 47"),
    _later("van_neckstraat_het_is_nummer", "whatsapp",
           [("text", "Fietswrak tegen de paal bij van neckstraat"), ("text", "het is nummer 15")], "Van Neckstraat 15"),
    _later("zoutkeetsplein_suffix_later", "telegram",
           [("text", "Kapotte bank op het zoutkeetsplein"), ("text", "nr 5")], "Zoutkeetsplein 5-1"),
    _later("postcode_then_number", "webchat",
           [("text", "Er ligt afval, postcode 1013 CT"), ("text", "nummer 8")], "Jan Mensplein 8"),
    _later("postcode_glued_then_number", "twilio",
           [("text", "losse stoeptegel 1013PH"), ("text", "nr 18a")], "Dirk Hartoghstraat 18A"),
    _later("postcode_alone_then_problem_then_number", "whatsapp",
           [("text", "Lantaarnpaal kapot"), ("text", "postcode 1013 NP"), ("text", "4")], "Barentszstraat 4",
           "Lantaarnpaal kapot"),
    _later("street_alone_then_number", "telegram",
           [("text", "Er staat een fietswrak"), ("text", "bij de houtmankade"), ("text", "nr 5")],
           "Houtmankade 5A", "Er staat een fietswrak"),
    _later("number_first_then_street", "webchat",
           [("text", "Boomtak op de stoep"), ("text", "nummer 14"), ("text", "jan mensplein")],
           "Jan Mensplein 14", "Boomtak op de stoep"),
    _later("not_found_then_right_number", "whatsapp",
           [("text", "Losse tegel bij Silodam 999"), ("text", "sorry nr 92")], "Silodam 92", "Losse tegel",
           never=(ASKS_WHERE,)),
    _later("english_street_then_number", "telegram",
           [("text", "There is a broken street light on the Barentszstraat"), ("text", "number 14")],
           "Barentszstraat 14", "There is a broken street light", never=(ASKS_WHERE_EN, NOT_FOUND_EN)),
    _later("english_bare_number", "whatsapp",
           [("text", "Rubbish everywhere near Jan Mensplein"), ("text", "it's number 16")], "Jan Mensplein 16",
           never=(ASKS_WHERE_EN, NOT_FOUND_EN)),
    _later("other_number_in_the_words", "whatsapp",
           [("text", "Al 3 weken ligt er afval bij de Silodam"), ("text", "nr 7")], "Silodam 7",
           "Al 3 weken ligt er afval"),
    _later("english_no_dot", "twilio",
           [("text", "Broken bench on the Zoutkeetsgracht"), ("text", "no. 25")], "Zoutkeetsgracht 25",
           never=(ASKS_WHERE_EN, NOT_FOUND_EN)),
    {"name": "later_asks_the_house_number", "kind": "number_later", "platform": "webchat",
     "steps": [("text", "Er ligt grofvuil bij de houtmankade")],
     "reports": 0, "last_reply": [ASKS_NUMBER, "Houtmankade"], "never": [NOT_FOUND]},

    # --- not found: the address named back, not "where is the problem?" ---
    _missing("known_street_unknown_number", "whatsapp", [("text", "Losse tegel bij Westerdoksdijk 999")],
             "Westerdoksdijk 999"),
    _missing("known_street_unknown_number_alone", "telegram",
             [("text", "Lantaarnpaal kapot"), ("text", "Silodam 9999")], "Silodam 9999"),
    _missing("typo_street_unknown_number", "webchat", [("text", "afval bij de zoutkeetsgrcht 700")],
             "Zoutkeetsgracht 700"),
    _missing("unknown_street_in_a_sentence", "twilio", [("text", "Glas op het fietspad bij de Kerkstraat 12")],
             "Kerkstraat 12"),
    _missing("unknown_street_lower_case", "whatsapp", [("text", "kapotte lamp op de dorpsweg 4")], "dorpsweg 4"),
    _missing("unknown_street_with_town", "telegram", [("text", "Er ligt afval"), ("text", "Kerkstraat 12, Emmen")],
             "Kerkstraat 12"),
    _missing("unknown_long_street", "webchat",
             [("text", "Losse stoeptegel voor Burgemeester de Withstraat 3")], "Burgemeester de Withstraat 3"),
    _missing("unknown_postcode_number", "twilio", [("text", "Zwerfvuil bij 1013 CT 99")], "1013 CT 99"),
    _missing("number_after_street_not_found", "whatsapp",
             [("text", "Container vol bij de houtmankade"), ("text", "nr 77")], "Houtmankade 77"),
    _missing("number_after_postcode_not_found", "telegram",
             [("text", "Er ligt glas, postcode 1013 PB"), ("text", "huisnummer 40")], "1013 PB 40"),
    _missing("chat_spelling_known_street", "whatsapp", [("text", "er ligt n hoop troep bij westerdoksdijk 1234")],
             "Westerdoksdijk 1234"),
    _missing("number_below_the_first", "telegram", [("text", "lamp kapot op jan mensplein 3")], "Jan Mensplein 3"),
    _missing("known_street_alone_after_problem", "twilio",
             [("text", "Er ligt grofvuil"), ("text", "Houtmankade 14")], "Houtmankade 14"),
    _missing("unknown_laan", "webchat", [("text", "kapotte stoeptegel bij de Lindenlaan 8")], "Lindenlaan 8"),
    _missing("known_street_no_suffix_word", "whatsapp", [("text", "tak op de weg bij Zandhoek 77")], "Zandhoek 77"),
    _missing("known_street_big_number", "webchat", [("text", "afval bij de Barentszstraat 2000")],
             "Barentszstraat 2000"),
    _missing("english_dumped_mattress", "telegram", [("text", "Dumped mattress at Silodam 999")], "Silodam 999",
             english=True),
    _missing("english_main_street", "twilio", [("text", "Street light out near Main Street 5")], "Main Street 5",
             english=True),
    _missing("english_known_street", "webchat", [("text", "Broken street light at Westerdoksdijk 999")],
             "Westerdoksdijk 999", english=True),
    _missing("english_unknown_street", "whatsapp", [("text", "Pothole on the road at Baker Street 221")],
             "Baker Street 221", english=True),
    _missing("english_unknown_number_alone", "telegram",
             [("text", "There is broken glass on the pavement"), ("text", "Silodam 9999")], "Silodam 9999",
             english=True),
]
