"""The situations of issue 24 as simulated scenarios for bench/bench_dedup.py: our own geometry (street lights
and container spots generated along the streets of the Amsterdam BAG sample) and our own texts.

Residents stand 0–3 m from the object; their phone's GPS error has a 95 % radius of 10–30 m (σ 4–12 m). Each scenario
is a list of incidents and a timeline of reports and fixes; staff set the report they work on (the root of the
incident's first report) to done, as through the API.

  recurrence   a light reported, done, and out again: half the same day (1–8 h after done), half 1–10 days on
  two_problems a loose tile 1–4 m beside a dead light; graffiti 1–4 m beside a full container
  two_posts    two neighbouring posts 15–25 m apart, both out; every resident types the sticker's number
  fractions    a spot of glass, paper, residual and plastic containers 2 m apart; two fractions full at once;
               every resident names the fraction ("glasbak vol"; plastic in its own category)

A report that names neither number nor fraction beside two broken posts or two full containers is a coin toss
for any method (the GPS cannot tell 2–25 m apart): the issue's situations are those where the resident says.
  three_weeks  one dead light, ten residents over three weeks, then done
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bench.bench_dedup import LIGHT, PAVING, START, TEXTS, Incident, SimReport, load_streets, points_along

CONTAINER = "container-is-vol"
PLASTIC = "container-voor-plastic-afval-is-vol"
GRAFFITI = "graffiti-wildplak"
FRACTION_NAMES = ("glass", "paper", "residual", "plastic")

LIGHT_TEXTS = TEXTS[LIGHT] + ["Straatlamp kapot", "Lamp brandt niet", "Street light is out",
                              "De lantaarn is al een paar dagen uit", "Donker hier, de paal doet niks"]
LATER_LIGHT_TEXTS = ["Lamp doet het nog steeds niet", "Alweer donker, lantaarnpaal nog altijd kapot",
                     "Lantaarnpaal al weken uit", "Straatverlichting nog steeds stuk", "The street light is still out",
                     "Wanneer wordt de lamp gemaakt? Nog altijd donker"]
GRAFFITI_TEXTS = ["Graffiti op de muur", "Iemand heeft op de gevel gespoten", "Tags op het elektriciteitskastje",
                  "Bekladding op de muur naast de bakken", "Graffiti op het bushokje"]
FRACTION_TEXTS = {
    "glass": ["Glasbak vol", "De glasbak zit propvol", "glascontainer puilt uit, flessen ernaast",
              "Bottle bank is full", "Glasbak is vol, kan mijn flessen niet kwijt"],
    "paper": ["Papiercontainer vol", "papierbak zit vol met dozen", "Oud papier container vol",
              "Paper container full", "De papierbak puilt uit, karton ernaast"],
    "residual": ["Restafval container vol", "container voor restafval zit vol, zakken ernaast",
                 "Vuilniszakken naast de restafvalcontainer, hij is vol", "Restafvalcontainer propvol"],
    "plastic": ["Plastic container vol", "pmd container zit vol", "Plastic bak puilt uit",
                "PMD container is vol, zakken ernaast"],
}
GENERIC_CONTAINER_TEXTS = ["Container is vol", "De container zit vol", "container puilt uit"]


@dataclass
class Scenario:
    name: str
    description: str
    incidents: list[Incident]
    reports: list[SimReport]
    events: list = field(default_factory=list)  # ("report", SimReport) / ("fix", Incident), in time order


@dataclass
class World:
    lights: list[dict]  # id, painted, x, y, street, k
    container_spots: list[dict]  # x, y, street, k, containers: [{id, fraction, x, y}]

    def assets(self) -> list[dict]:
        out = [{"type": "street_light", "id": light["id"], "x": light["x"], "y": light["y"], "fraction": None}
               for light in self.lights]
        for spot in self.container_spots:
            out += [{"type": "container", **c} for c in spot["containers"]]
        return out


def build_world(rng: random.Random) -> World:
    """Lights every 15–30 m along the sample's streets, each with a number on its sticker (half "street-post"
    like 12-045, half a plain four-digit number); container spots every 90–140 m, four fractions 2 m apart."""
    lights, spots = [], []
    plain = rng.sample(range(1000, 9999), 2000)
    for s_index, line in enumerate(load_streets()):
        for x, y, k in points_along(line, rng, 15, 30):
            painted = f"{s_index + 10:02d}-{k:03d}" if rng.random() < 0.5 else f"{plain[len(lights)]}"
            lights.append({"id": f"LM-{painted}", "painted": painted, "x": x, "y": y, "street": s_index, "k": k})
        for x, y, k in points_along(line, rng, 90, 140):
            cx, cy = x + 4, y + 4  # on the pavement beside the street's centre line
            containers = [{"id": f"C{s_index:02d}{k:02d}{i}", "fraction": fraction, "x": cx + 2 * i, "y": cy}
                          for i, fraction in enumerate(FRACTION_NAMES)]
            spots.append({"x": cx + 3, "y": cy, "street": s_index, "k": k, "containers": containers})
    return World(lights, spots)


# --- residents ---------------------------------------------------------------------------------------------


def gps_point(rng: random.Random, x: float, y: float) -> tuple[float, float]:
    """Where a resident beside (x, y) is placed by their phone: 0–3 m away, then GPS error whose 95 % radius
    is 10–30 m (a 2-D normal error, σ per axis 4–12 m, drawn per report: accuracy as phones state it)."""
    stand, a = rng.uniform(0, 3), rng.uniform(0, 2 * math.pi)
    sigma = rng.uniform(4, 12)
    return (x + stand * math.cos(a) + rng.gauss(0, sigma), y + stand * math.sin(a) + rng.gauss(0, sigma))


def sticker_text(rng: random.Random, painted: str) -> str:
    """The number on the sticker as residents type it: "mast 12-045", "paal nr 3187", "lantaarnpaal 0231"."""
    digits = painted.replace("-", "")
    variants = [painted, digits, painted.replace("-", "."), "0" + digits, painted]
    number = rng.choice(variants)
    word = rng.choice(["mast", "paal nr", "lichtmast", "lantaarnpaal", "mast nummer", "paalnummer", "lamp post"])
    return f"{word} {number}"


def make_report(rng, incident: Incident, at: datetime, text: str, category: str | None = None) -> SimReport:
    from meldingen.geo.crs import from_rd

    x, y = gps_point(rng, incident.x, incident.y)
    lon, lat = from_rd(x, y)
    return SimReport(incident.id, category or incident.category, lat, lon, x, y, at, text)


def light_text(rng, incident: Incident, numbered: float, texts=LIGHT_TEXTS) -> str:
    text = rng.choice(texts)
    if incident.painted and rng.random() < numbered:
        sticker = sticker_text(rng, incident.painted)
        text = f"{text}, {sticker}" if rng.random() < 0.6 else f"{sticker[0].upper()}{sticker[1:]} {text.lower()}"
    return text


# --- scheduling: spots apart in place or in time -----------------------------------------------------------


class Schedule:
    """Picks a start for a spot so that no other spot within 80 m is open at the same time."""

    def __init__(self, rng: random.Random, days: float = 56):
        self.rng, self.days, self.busy = rng, days, []

    def place(self, x: float, y: float, length_days: float) -> datetime | None:
        for _ in range(50):
            start = START + timedelta(days=self.rng.uniform(0, self.days), hours=self.rng.uniform(0, 12))
            end = start + timedelta(days=length_days + 1)
            if all(math.dist((x, y), (bx, by)) > 80 or end < bs or start > be for bx, by, bs, be in self.busy):
                self.busy.append((x, y, start, end))
                return start
        return None


def _incident(incidents, category, x, y, start, fixed, light=None) -> Incident:
    inc = Incident(len(incidents), category, x, y, start, fixed, light["id"] if light else None,
                   light["painted"] if light else None)
    incidents.append(inc)
    return inc


def _spread(rng, inc: Incident, count: int, texts_for) -> list[SimReport]:
    out = []
    for _ in range(count):
        at = inc.start + timedelta(hours=rng.expovariate(1 / 20.0))
        if at < inc.fixed_at:
            out.append(make_report(rng, inc, at, texts_for()))
    return out


def recurrence(rng: random.Random, world: World, spots: int = 30) -> tuple[list[Incident], list[SimReport]]:
    incidents, reports, schedule = [], [], Schedule(rng, 40)
    for light in rng.sample(world.lights, min(spots, len(world.lights))):
        start = schedule.place(light["x"], light["y"], 30)
        if start is None:
            continue
        first = _incident(incidents, LIGHT, light["x"], light["y"], start, start + timedelta(days=rng.uniform(2, 6)),
                          light)
        reports += _spread(rng, first, 1 + rng.randrange(4), lambda first=first: light_text(rng, first, 0.2))
        again = first.fixed_at + (timedelta(hours=rng.uniform(1, 8)) if rng.random() < 0.5
                                  else timedelta(days=rng.uniform(1, 10)))
        second = _incident(incidents, LIGHT, light["x"], light["y"], again, again + timedelta(days=rng.uniform(2, 6)),
                           light)
        reports += _spread(rng, second, 1 + rng.randrange(3), lambda second=second: light_text(rng, second, 0.2))
    return incidents, reports


def two_problems(rng: random.Random, world: World, spots: int = 30) -> tuple[list[Incident], list[SimReport]]:
    incidents, reports, schedule = [], [], Schedule(rng)
    for i in range(spots):
        if i % 2 == 0:
            light = rng.choice(world.lights)
            start = schedule.place(light["x"], light["y"], 14)
            if start is None:
                continue
            fixed = start + timedelta(days=rng.uniform(3, 14))
            a, d = rng.uniform(0, 2 * math.pi), rng.uniform(1, 4)
            one = _incident(incidents, LIGHT, light["x"], light["y"], start, fixed, light)
            two = _incident(incidents, PAVING, light["x"] + d * math.cos(a), light["y"] + d * math.sin(a),
                            start + timedelta(hours=rng.uniform(0, 24)), fixed)
            reports += _spread(rng, one, 1 + rng.randrange(5), lambda one=one: light_text(rng, one, 0.15))
            reports += _spread(rng, two, 1 + rng.randrange(5), lambda: rng.choice(TEXTS[PAVING]))
        else:
            spot = rng.choice(world.container_spots)
            box = rng.choice(spot["containers"][:3])  # glass, paper or residual: the container-is-vol category
            start = schedule.place(spot["x"], spot["y"], 14)
            if start is None:
                continue
            fixed = start + timedelta(days=rng.uniform(2, 7))
            a, d = rng.uniform(0, 2 * math.pi), rng.uniform(1, 4)
            one = _incident(incidents, CONTAINER, box["x"], box["y"], start, fixed)
            two = _incident(incidents, GRAFFITI, box["x"] + d * math.cos(a), box["y"] + d * math.sin(a),
                            start + timedelta(hours=rng.uniform(0, 24)), fixed)
            texts = FRACTION_TEXTS[box["fraction"]] + GENERIC_CONTAINER_TEXTS
            reports += _spread(rng, one, 1 + rng.randrange(5), lambda texts=texts: rng.choice(texts))
            reports += _spread(rng, two, 1 + rng.randrange(5), lambda: rng.choice(GRAFFITI_TEXTS))
    return incidents, reports


def two_posts(rng: random.Random, world: World, spots: int = 30) -> tuple[list[Incident], list[SimReport]]:
    by_street = {(light["street"], light["k"]): light for light in world.lights}
    pairs = [(light, by_street[(light["street"], light["k"] + 1)]) for light in world.lights
             if (light["street"], light["k"] + 1) in by_street
             and 15 <= math.dist((light["x"], light["y"]), (by_street[(light["street"], light["k"] + 1)]["x"],
                                                            by_street[(light["street"], light["k"] + 1)]["y"])) <= 25]
    incidents, reports, schedule = [], [], Schedule(rng)
    for a, b in rng.sample(pairs, min(spots, len(pairs))):
        start = schedule.place((a["x"] + b["x"]) / 2, (a["y"] + b["y"]) / 2, 14)
        if start is None:
            continue
        fixed = start + timedelta(days=rng.uniform(3, 14))
        for light in (a, b):
            inc = _incident(incidents, LIGHT, light["x"], light["y"], start + timedelta(hours=rng.uniform(0, 12)),
                            fixed, light)
            reports += _spread(rng, inc, 2 + rng.randrange(5), lambda inc=inc: light_text(rng, inc, 1.0))
    return incidents, reports


def fractions(rng: random.Random, world: World, spots: int = 28) -> tuple[list[Incident], list[SimReport]]:
    incidents, reports, schedule = [], [], Schedule(rng)
    for _ in range(spots):
        spot = rng.choice(world.container_spots)
        start = schedule.place(spot["x"], spot["y"], 7)
        if start is None:
            continue
        fixed = start + timedelta(days=rng.uniform(2, 6))
        for box in rng.sample(spot["containers"], 2):
            category = PLASTIC if box["fraction"] == "plastic" else CONTAINER
            inc = _incident(incidents, category, box["x"], box["y"], start + timedelta(hours=rng.uniform(0, 12)),
                            fixed)

            def text(box=box):
                return rng.choice(FRACTION_TEXTS[box["fraction"]])

            reports += _spread(rng, inc, 2 + rng.randrange(4), text)
    return incidents, reports


def three_weeks(rng: random.Random, world: World, spots: int = 12) -> tuple[list[Incident], list[SimReport]]:
    incidents, reports, schedule = [], [], Schedule(rng, 30)
    for light in rng.sample(world.lights, min(spots * 3, len(world.lights))):
        if len({i.id for i in incidents}) >= spots:
            break
        start = schedule.place(light["x"], light["y"], 22)
        if start is None:
            continue
        inc = _incident(incidents, LIGHT, light["x"], light["y"], start, start + timedelta(days=22), light)
        for n in range(10):
            at = start + timedelta(days=rng.uniform(0, 21) if n else 0, hours=rng.uniform(0, 4))
            texts = LIGHT_TEXTS if n == 0 or rng.random() < 0.5 else LATER_LIGHT_TEXTS
            reports.append(make_report(rng, inc, at, light_text(rng, inc, 0.1, texts)))
    return incidents, reports


SCENARIOS = {
    "recurrence": ("the same light again after the first report was done", recurrence),
    "two_problems": ("two different problems at one spot (tile beside a light, graffiti beside a container)",
                     two_problems),
    "two_posts": ("two posts 15–25 m apart, both broken, residents type the sticker's number", two_posts),
    "fractions": ("a container spot with glass, paper, residual and plastic side by side", fractions),
    "three_weeks": ("one dead light, ten residents over three weeks", three_weeks),
}


def build(name: str, rng: random.Random, world: World) -> Scenario:
    from bench.bench_dedup import timeline

    description, make = SCENARIOS[name]
    incidents, reports = make(rng, world)
    reports.sort(key=lambda r: r.at)
    return Scenario(name, description, incidents, reports, timeline(incidents, reports))
