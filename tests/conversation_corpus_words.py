"""Scripted conversations of issue 21's second, third and fourth kinds, written for these tests: what a message
means (a reply to the service's own message, a cancel inside a sentence, a number corrected in other words, two
problems in one message), what is not text, and categories from English and plain words. Dutch chat spelling,
typos and English, on WhatsApp, Telegram, Twilio and the website chat.

Same format as tests/conversation_corpus.py (its steps and expectations), played by
tests/test_intake_words_corpus.py, with one step more:
  ("reply", words)   a text sent as a reply to the service's message with the resident's last reference
                     (WhatsApp context.id, Telegram reply_to_message, Twilio OriginalRepliedMessageSid)
  ("reply_first", words)  the same, to the message with the resident's first reference
and expectations more:
  history          words a note in the last report's history holds (what the resident added for staff)
  last_reply_not   words the last reply must not hold ({ref}, {ref1} filled in)
"""

from __future__ import annotations

from conversation_corpus import ASKS_WHERE

ASKS_WHAT = "Wat is er aan de hand"
STATUS = "{ref}"  # a status answer names the report
CANCELLED = "we stoppen met deze melding"
NOTHING_TO_CANCEL = "Er is geen melding bezig"
SECOND = "ander probleem"
SECOND_EN = "another problem"

REPLIES = [
    # --- a reply to the reference is about that report ---
    ("reply_en_nog_steeds_niks", "whatsapp", "en? nog steeds niks"),
    ("reply_en", "telegram", "en?"),
    ("reply_question_marks", "twilio", "??"),
    ("reply_nog_niks", "whatsapp", "nog niks?"),
    ("reply_en_nu", "telegram", "en nu?"),
    ("reply_still_nothing", "twilio", "still nothing?"),
    ("reply_any_news", "whatsapp", "any news?"),
    ("reply_nog_steeds_kapot", "telegram", "hij is nog steeds kapot hoor"),
    ("reply_ligt_er_nog", "whatsapp", "ligt er nog steeds"),
    ("reply_chat_spelling", "twilio", "al nieuws over mn melding?"),
    ("reply_hoe_staat_t", "telegram", "hoe staat t ervoor"),
    ("reply_typo", "whatsapp", "nog stees niks gehoord"),
    ("reply_english_still_broken", "telegram", "it's still broken"),
    ("reply_inmiddels", "whatsapp", "en inmiddels?"),
    ("reply_hallo", "twilio", "hallo??"),
    ("reply_nothing_yet", "telegram", "nothing yet?"),
    ("reply_update_pls", "whatsapp", "update pls?"),
    ("reply_nog_steeds_niet_gemaakt", "twilio", "is nog steeds niet gemaakt"),
    ("reply_al_nieuws", "telegram", "al nieuws?"),
    ("reply_when_fixed", "whatsapp", "when will it be fixed?"),
]

SCRIPTS = [
    *[{"name": name, "platform": platform,
       "steps": [("text", "Losse stoeptegel bij Barentszstraat 4"), ("reply", words)],
       "reports": 1, "last_reply": [STATUS], "never": ["Bedoelt u", "Do you mean", ASKS_WHERE, ASKS_WHAT]}
      for name, platform, words in REPLIES],
    # a reply to the first of two reports asks about that one, not the newest
    {"name": "reply_to_the_first_of_two_reports", "platform": "whatsapp",
     "steps": [("text", "Losse stoeptegel bij Barentszstraat 4"), ("text", "Container vol bij Silodam 1A"),
               ("reply_first", "en? nog steeds niks")],
     "reports": 2, "last_reply": ["{ref1}"], "last_reply_not": ["{ref}"]},
    {"name": "reply_to_the_first_of_two_reports_telegram", "platform": "telegram",
     "steps": [("text", "Losse stoeptegel bij Barentszstraat 4"), ("text", "Container vol bij Silodam 1A"),
               ("reply_first", "is het al gemaakt?")],
     "reports": 2, "last_reply": ["{ref1}"], "last_reply_not": ["{ref}"]},
    # the same words without a reply start nothing about a report: the ordinary question is asked
    {"name": "not_a_reply_is_asked_about", "platform": "whatsapp",
     "steps": [("text", "Losse stoeptegel bij Barentszstraat 4"), ("text", "nog steeds niks")],
     "reports": 1, "last_reply": ["{ref}"], "never": [ASKS_WHERE]},
    {"name": "reply_thanks_is_thanks", "platform": "telegram",
     "steps": [("text", "Container vol bij Silodam 1A"), ("reply", "top, dank je")],
     "reports": 1, "last_reply": ["Graag gedaan"]},

    # --- a cancel inside a sentence closes the draft; the next pin makes nothing ---
    *[{"name": name, "platform": platform,
       "steps": [("text", first), ("text", words), ("location", "barentszstraat")],
       "reports": 0, "never": ["M-"]}
      for name, platform, first, words in [
          ("cancel_laat_maar_opgeruimd", "webchat", "Losse stoeptegel", "laat maar, is al opgeruimd zie ik"),
          ("cancel_hoeft_niet_meer", "whatsapp", "Grofvuil op de stoep", "ach hoeft niet meer, iemand heeft t al gedaan"),
          ("cancel_never_mind", "telegram", "Broken street light", "never mind, someone fixed it"),
          ("cancel_laat_ook_maar", "twilio", "Glas op het fietspad", "laat ook maar, de buurman heeft het al opgeveegd"),
          ("cancel_vergeet_het", "webchat", "Container vol", "vergeet het maar, ze zijn al geweest"),
          ("cancel_al_opgehaald", "whatsapp", "Grofvuil naast de container", "o wacht is al opgehaald"),
          ("cancel_niet_meer_nodig", "telegram", "Tak op de weg", "niet meer nodig, de tak is al weg"),
          ("cancel_iemand_heeft_t", "twilio", "zwerfvuil in de bosjes", "iemand heeft t al opgeruimd"),
          ("cancel_already_fixed", "webchat", "Loose paving tile", "oh it's already fixed, sorry"),
          ("cancel_no_need", "whatsapp", "Bin is full", "no need anymore, they emptied it"),
          ("cancel_forget_it", "telegram", "Graffiti on the wall", "forget it, it's gone"),
          ("cancel_typo_laat_maar", "twilio", "Kapotte lamp", "laat maar hoor, doet t weer"),
          ("cancel_is_al_weg", "webchat", "Fietswrak bij het hek", "fiets is al weg zie ik"),
          ("cancel_hebben_het_al", "whatsapp", "Afval op straat", "hebben het al opgeruimd, bedankt"),
          ("cancel_someone_already", "telegram", "Dead bird on the path", "someone already took it away"),
          ("cancel_nou_laat_maar", "twilio", "stoeptegel los", "nou laat maar, ligt er niet meer"),
      ]],
    {"name": "cancel_without_a_draft_makes_nothing", "platform": "webchat",
     "steps": [("text", "laat maar, is al opgeruimd zie ik"), ("location", "barentszstraat")],
     "reports": 0, "never": ["M-"]},
    {"name": "cancel_just_after_the_report_is_told_to_staff", "platform": "whatsapp",
     "steps": [("text", "Losse stoeptegel bij Barentszstraat 4"), ("text", "laat maar, is al opgeruimd zie ik")],
     "reports": 1, "last_reply": ["{ref}"], "history": ["al opgeruimd"]},
    {"name": "laat_maar_weten_is_no_cancel", "platform": "telegram",
     "steps": [("text", "Losse stoeptegel, laat maar weten wanneer jullie komen"), ("location", "barentszstraat")],
     "reports": 1},
    {"name": "question_whether_it_is_cleared_is_no_cancel", "platform": "whatsapp",
     "steps": [("text", "Grofvuil bij de container"), ("text", "is het al opgeruimd?"), ("location", "silodam")],
     "reports": 1},

    # --- a number corrected in other words moves the place ---
    *[{"name": name, "platform": platform,
       "steps": [("text", "Barentszstraat 4"), ("text", words), ("text", "Losse stoeptegel")],
       "reports": 1, "address": "Barentszstraat 12", "description": "Losse stoeptegel"}
      for name, platform, words in [
          ("number_sorry_moet_zijn", "webchat", "sorry moet nummer 12 zijn"),
          ("number_oh_wacht", "whatsapp", "oh wacht, het is nr 12"),
          ("number_ik_bedoel", "telegram", "ik bedoel 12"),
          ("number_bedoel_ik_after", "twilio", "nummer 12 bedoel ik"),
          ("number_foutje", "webchat", "foutje, huisnummer 12"),
          ("number_oeps", "whatsapp", "oeps 12 moet het zijn"),
          ("number_verkeerd", "telegram", "verkeerd nummer, het is 12"),
          ("number_nee_12", "twilio", "nee 12"),
          ("number_english_meant", "webchat", "sorry, I meant no. 12"),
          ("number_english_should_be", "whatsapp", "it should be number 12"),
          ("number_english_wait", "telegram", "wait, it's 12"),
          ("number_chat_spelling", "twilio", "srry moet nr 12 zijn"),
      ]],

    # --- two problems in one message: one report, the other named in the answer ---
    *[{"name": name, "platform": platform,
       "steps": [("text", words), ("location", "westerdoksdijk")],
       "reports": 1, "description": first, "last_reply": [other[:25]], "history": [other[:25]]}
      for name, platform, words, first, other in [
          ("two_lamp_and_tile", "whatsapp", "lantaarnpaal kapot en er ligt ook een stoeptegel los",
           "lantaarnpaal kapot", "er ligt ook een stoeptegel los"),
          ("two_container_and_bulky", "telegram", "De container is vol. Daarnaast staat er grofvuil op de stoep",
           "De container is vol", "Daarnaast staat er grofvuil op de stoep"),
          ("two_tree_and_light", "webchat", "Er ligt een boom op het fietspad en ook de lantaarnpaal is kapot",
           "Er ligt een boom op het fietspad", "ook de lantaarnpaal is kapot"),
          ("two_english", "twilio", "Street light broken and there is also a loose paving stone",
           "Street light broken", "there is also a loose paving stone"),
          ("two_graffiti_and_bin", "whatsapp", "graffiti op de muur, ook zit de prullenbak helemaal vol",
           "graffiti op de muur", "ook zit de prullenbak helemaal vol"),
          ("two_rats_and_rubbish", "telegram", "ratten bij de containers en er liggen ook vuilniszakken op straat",
           "ratten bij de containers", "er liggen ook vuilniszakken op straat"),
          ("two_english_bin_and_tree", "webchat", "The bin is overflowing, also a tree branch is hanging loose",
           "The bin is overflowing", "also a tree branch is hanging loose"),
          ("two_chat_spelling", "twilio", "lamp doet t nie en er ligt ook glas op t fietspad",
           "lamp doet t nie", "er ligt ook glas op t fietspad"),
          ("two_dog_mess_and_bike", "whatsapp", "Hondenpoep overal op de stoep, verder staat er een fietswrak tegen het hek",
           "Hondenpoep overal op de stoep", "verder staat er een fietswrak tegen het hek"),
          ("two_english_light_and_cat", "telegram", "the traffic light is broken and there's also a dead cat on the road",
           "the traffic light is broken", "there's also a dead cat on the road"),
          ("two_tree_sentence_and_bin", "webchat", "Boom omgewaaid op de weg. Ook is de prullenbak kapot",
           "Boom omgewaaid op de weg", "Ook is de prullenbak kapot"),
          ("two_drain_and_bulky", "twilio", "Put verstopt, bovendien ligt er een berg grofvuil naast",
           "Put verstopt", "bovendien ligt er een berg grofvuil naast"),
          ("two_swing_and_glass_bin", "whatsapp", "Kapotte schommel in de speeltuin en ook zit de glasbak vol",
           "Kapotte schommel in de speeltuin", "ook zit de glasbak vol"),
      ]],
    *[{"name": name, "platform": platform,
       "steps": [("text", words), ("location", "westerdoksdijk")],
       "reports": 1, "description": words, "never": [SECOND, SECOND_EN]}
      for name, platform, words in [
          ("one_problem_two_lamps", "whatsapp", "De lamp is kapot en de lamp ernaast is ook kapot"),
          ("one_problem_ook_al_weken", "telegram", "Losse stoeptegel, ligt er ook al weken zo"),
          ("one_problem_english_too", "webchat", "Bin is full and the one next to it is also full"),
          ("one_problem_afval_ook_op_stoep", "twilio", "Er ligt afval naast de container en ook op de stoep"),
          ("one_problem_two_containers", "whatsapp", "de container is vol en de container ernaast ook"),
          ("one_problem_graffiti_door_too", "telegram", "Graffiti op de muur en ook op de deur ernaast"),
          ("one_problem_reported_before", "webchat", "lamp kapot, is ook al eerder gemeld"),
          ("one_problem_tripped_too", "twilio", "Losse stoeptegel, ik ben er ook al over gestruikeld"),
      ]],

    # --- the category from English and plain words ---
    *[{"name": name, "platform": platform,
       "steps": [("text", words), ("location", "dirk_hartoghstraat")],
       "reports": 1, "category": category}
      for name, platform, words, category in [
          ("category_pothole_cycle_path", "whatsapp", "a huge pothole on the cycle path",
           "onderhoud-stoep-straat-en-fietspad"),
          ("category_trottoir_open", "telegram", "trottoir ligt open, geen hekken eromheen",
           "onderhoud-stoep-straat-en-fietspad"),
          ("category_street_lamp_dead", "twilio", "street lamp has been dead for a week",
           "straatverlichting-openbare-klok"),
          ("category_bin_overflowing", "webchat", "the litter bin is overflowing", "prullenbak-is-vol"),
          ("category_sofa_dumped", "whatsapp", "someone dumped a sofa and a mattress on the pavement", "grofvuil"),
          ("category_tree_fallen", "telegram", "a tree has fallen across the path", "boom"),
          ("category_dog_mess", "twilio", "dog mess all over the footpath", "hondenpoep"),
          ("category_rats", "webchat", "rats running around near the bins", "ratten"),
          ("category_drain_blocked", "whatsapp", "the drain is blocked and the road floods", "put-riolering-verstopt"),
          ("category_stikdonker", "telegram", "het is hier 's avonds stikdonker op straat",
           "straatverlichting-openbare-klok"),
          ("category_weeds", "twilio", "weeds growing everywhere between the tiles", "onkruid"),
          ("category_abandoned_bike", "webchat", "abandoned bike with no wheels locked to the fence", "fietswrak"),
          ("category_loud_music", "whatsapp", "loud music from the bar every night until 3", "geluidsoverlast-muziek"),
          ("category_graffiti_en", "telegram", "graffiti sprayed all over the bus shelter", "graffiti-wildplak"),
      ]],
]
