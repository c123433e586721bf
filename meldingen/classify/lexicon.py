"""A bilingual lexicon for the classifier, written here: the words English-speaking residents use (and plain Dutch
words the written texts rarely use) with the Dutch words of the written texts they stand for. The classifier
is trained on Dutch; `with_dutch_words` adds the Dutch words to a text before its features are counted, in
training and in use alike, so "a huge pothole on the cycle path" counts "gat in de weg" and "fietspad" too.

Keys and values are normalised (lower case, no accents); a key matches whole words. Longer keys are tried
first, so "street light" is one thing and not "street" plus "light".
"""

from __future__ import annotations

import re
from functools import cache

# English word or phrase → the Dutch words the written texts use for it.
ENGLISH: dict[str, str] = {
    # roads, pavements, cycle paths
    "pothole": "gat in de weg kuil wegdek", "potholes": "gaten in de weg kuilen wegdek",
    "hole": "gat", "holes": "gaten", "crack": "scheur", "cracks": "scheuren", "cracked": "gescheurd",
    "road": "weg", "roads": "wegen", "street": "straat", "tarmac": "asfalt wegdek", "asphalt": "asfalt",
    "road surface": "wegdek", "pavement": "stoep", "sidewalk": "stoep", "footpath": "stoep voetpad",
    "paving": "bestrating tegels", "paving stone": "stoeptegel", "paving stones": "stoeptegels",
    "paving slab": "stoeptegel", "paving slabs": "stoeptegels", "tile": "tegel", "tiles": "tegels",
    "kerb": "stoeprand", "curb": "stoeprand", "uneven": "oneffen scheef", "loose": "los",
    "cycle path": "fietspad", "cycle lane": "fietspad", "bike lane": "fietspad", "bike path": "fietspad",
    "cycleway": "fietspad", "trip": "struikelen", "tripped": "gestruikeld", "fell": "gevallen",
    "dug up": "opengebroken", "roadworks": "werkzaamheden",
    # lights, signs, traffic
    "street light": "lantaarnpaal straatverlichting", "street lights": "lantaarnpalen straatverlichting",
    "streetlight": "lantaarnpaal straatverlichting", "streetlights": "lantaarnpalen straatverlichting",
    "street lamp": "lantaarnpaal straatlamp", "street lamps": "lantaarnpalen straatlamp",
    "streetlamp": "lantaarnpaal straatlamp", "lamp post": "lantaarnpaal", "lamppost": "lantaarnpaal",
    "lamp": "lamp", "lamps": "lampen", "lighting": "verlichting", "lights": "verlichting lampen",
    "light": "licht lamp", "dark": "donker", "pitch dark": "stikdonker donker", "flickering": "knippert",
    "out": "uit", "off": "uit", "clock": "klok",
    "traffic light": "verkeerslicht stoplicht", "traffic lights": "verkeerslichten stoplicht",
    "pedestrian crossing": "zebrapad oversteekplaats voetgangerslicht", "crossing lights": "voetgangerslicht",
    "junction": "kruispunt", "sign": "bord", "road sign": "verkeersbord", "stop sign": "verkeersbord stopbord",
    "knocked over": "omver gereden", "barrier": "afzetting hek", "barriers": "afzetting hekken",
    "fence": "hek", "railing": "hek leuning", "railings": "hekken", "diversion": "omleiding",
    "road markings": "belijning", "speeding": "hard rijden", "traffic": "verkeer",
    "icy": "glad ijs", "ice": "ijs glad", "slippery": "glad gladheid", "gritted": "gestrooid",
    "salted": "gestrooid zout", "snow": "sneeuw",
    "drain": "put afvoer", "drains": "putten", "storm drain": "put kolk", "gutter": "goot",
    "sewer": "riool riolering", "blocked": "verstopt", "clogged": "verstopt", "flooded": "water overstroomd",
    "floods": "water loopt niet weg", "puddle": "plas water",
    "playground": "speeltuin speelplaats", "play area": "speeltuin speelplaats", "swing": "schommel",
    "swings": "schommels", "slide": "glijbaan", "climbing frame": "klimrek", "seesaw": "wipwap",
    "sandpit": "zandbak", "bench": "bankje", "benches": "bankjes", "bike rack": "fietsrek nietje",
    "bicycle rack": "fietsrek nietje", "bridge": "brug", "sports field": "sportveld",
    "football pitch": "voetbalveld", "goal": "doel",
    # waste
    "rubbish": "afval vuil", "litter": "zwerfvuil afval", "trash": "afval", "garbage": "afval",
    "waste": "afval", "rubbish bags": "vuilniszakken", "bin bags": "vuilniszakken",
    "rubbish bag": "vuilniszak", "bin bag": "vuilniszak", "household waste": "huisvuil huisafval",
    "dumped": "gedumpt", "fly tipping": "gedumpt grofvuil", "fly-tipping": "gedumpt grofvuil",
    "bulky waste": "grofvuil", "sofa": "bank grofvuil", "couch": "bank grofvuil", "mattress": "matras grofvuil",
    "fridge": "koelkast grofvuil", "wardrobe": "kast grofvuil", "washing machine": "wasmachine grofvuil",
    "furniture": "meubels grofvuil", "container": "container", "containers": "containers",
    "underground container": "ondergrondse container", "wheelie bin": "container kliko",
    "bottle bank": "glasbak", "glass bin": "glasbak", "glass container": "glasbak",
    "paper container": "papiercontainer", "plastic container": "plastic container",
    "litter bin": "prullenbak afvalbak", "litter bins": "prullenbakken", "bin": "prullenbak afvalbak",
    "bins": "prullenbakken containers", "trash can": "prullenbak vuilnisbak", "dustbin": "vuilnisbak",
    "full": "vol", "overflowing": "vol overvol puilt uit", "full to the brim": "propvol",
    "broken": "kapot", "lid": "klep deksel", "flap": "klep", "jammed": "klemt kapot", "stuck": "klemt vast",
    "rubble": "puin", "bricks": "stenen puin", "builders": "bouwafval aannemer", "asbestos": "asbest",
    "battery": "accu", "cans": "blikjes", "crisp packets": "zakjes", "bottles": "flessen",
    # green space and water
    "tree": "boom", "trees": "bomen", "branch": "tak", "branches": "takken", "fallen": "omgevallen",
    "fallen over": "omgevallen", "blown over": "omgewaaid", "grass": "gras", "mowing": "maaien",
    "mow": "maaien", "hedge": "heg", "bushes": "struiken", "shrubs": "struiken", "overgrown": "overwoekerd snoeien",
    "pruning": "snoeien", "weeds": "onkruid", "weed": "onkruid", "canal": "gracht", "canals": "grachten",
    "floating": "drijfvuil drijft", "ditch": "sloot", "pond": "vijver", "quay": "kade", "quay wall": "kademuur",
    "canal wall": "kademuur", "jetty": "steiger", "moorings": "aanlegplaats kade", "bank": "oever",
    # animals
    "rat": "rat", "rats": "ratten", "mice": "muizen", "mouse": "muis", "dead": "dode dood",
    "cat": "kat", "bird": "vogel", "fox": "vos", "wasp": "wesp", "wasps": "wespen",
    "wasp nest": "wespennest", "wasps nest": "wespennest", "pigeon": "duif", "pigeons": "duiven",
    "gull": "meeuw", "gulls": "meeuwen", "seagulls": "meeuwen", "geese": "ganzen", "goose": "gans",
    # nuisance in public space
    "dog poo": "hondenpoep", "dog poop": "hondenpoep", "dog mess": "hondenpoep", "dog dirt": "hondenpoep",
    "pick up after their dogs": "hondenpoep opruimen", "clean up after their dogs": "hondenpoep opruimen",
    "graffiti": "graffiti", "tags": "graffiti bekladding", "sprayed": "gespoten graffiti",
    "posters": "wildplak", "abandoned bike": "fietswrak", "bike wreck": "fietswrak", "wreck": "wrak",
    "abandoned": "achtergelaten wrak", "no wheels": "zonder wielen wrak", "rusty": "roestig",
    "abandoned car": "autowrak", "flat tyres": "lekke banden", "flat tires": "lekke banden", "scooter": "scooter",
    "parked": "geparkeerd", "parking": "parkeren", "double parking": "dubbel parkeren",
    "construction": "bouw", "building site": "bouwplaats", "construction noise": "bouwlawaai",
    "drilling": "boren bouwlawaai", "demolition": "sloop", "oil": "olie", "chemicals": "chemicalien lozing",
    "shared bike": "deelfiets", "towed": "wegslepen",
    # businesses, people, water
    "music": "muziek", "loud": "hard harde", "noise": "geluid herrie", "noisy": "herrie",
    "bar": "kroeg cafe", "pub": "kroeg cafe", "club": "club disco", "restaurant": "restaurant horeca",
    "terrace": "terras", "air conditioning": "airco installatie", "fan": "ventilator installatie",
    "hums": "brommen", "smell": "stank", "stink": "stank", "stinks": "stinkt",
    "youngsters": "jongeren hangjongeren", "teenagers": "jongeren hangjongeren", "youths": "jongeren",
    "kids": "kinderen", "hanging around": "hangen rond", "shouting": "schreeuwen",
    "fireworks": "vuurwerk", "firecrackers": "knallers vuurwerk", "let off": "afsteken",
    "setting off": "afsteken", "peeing": "wildplassen plassen", "urinating": "wildplassen",
    "vomit": "overgeven", "drugs": "drugs", "dealing": "dealen drugs", "drunk": "dronken",
    "drinking": "drinken drank", "homeless": "daklozen", "begging": "bedelen", "taxi": "taxi", "taxis": "taxis",
    "honking": "toeteren", "bus": "bus", "boat": "boot", "boats": "boten", "sunken": "gezonken",
    "sunk": "gezonken", "speeding on the canal": "snel varen", "too fast": "te snel", "fast": "snel",
}

# Plain Dutch words the written texts seldom use → the words they do use.
PLAIN_DUTCH: dict[str, str] = {
    "trottoir": "stoep", "ligt open": "opengebroken gat stoep", "opengebroken": "gat stoep",
    "hekken": "afzetting", "geen hekken": "niet afgezet gat", "niks afgezet": "niet afgezet gat",
    "bestrating": "tegels stoep", "hobbelig": "scheef oneffen", "wegdek": "weg", "kuil": "gat",
    "stikdonker": "donker lantaarnpaal straatverlichting", "pikkedonker": "donker straatverlichting",
    "licht op straat": "straatverlichting lantaarnpaal", "goot": "put afvoer", "zit dicht": "verstopt",
    "speeltuintje": "speeltuin", "bankje": "bankje straatmeubilair", "gesloopt": "vernield kapot",
    "bak": "container", "propvol": "vol", "puilt uit": "vol", "afvalbakje": "prullenbak",
    "prullebak": "prullenbak", "kliko": "container", "klep": "klep", "stuk": "kapot",
    "omgewaaid": "omgevallen boom", "struiken": "snoeien", "rotzooi": "afval", "beest": "dier",
    "hondendrollen": "hondenpoep", "drollen": "poep", "bekladding": "graffiti", "lekke banden": "wrak",
    "knallers": "vuurwerk", "bootjes": "boten", "racen": "snel varen",
}


@cache
def _pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    table = {**PLAIN_DUTCH, **ENGLISH}
    alternatives = "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])"), table


def with_dutch_words(normalised: str) -> str:
    """The normalised text followed by the Dutch words its lexicon words stand for ("" added when none)."""
    pattern, table = _pattern()
    added = [table[m.group(0)] for m in pattern.finditer(normalised)]
    return f"{normalised} {' '.join(added)}" if added else normalised
