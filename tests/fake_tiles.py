"""A base-map tile server on loopback for browser tests and screenshots (the machine has no internet, and tests
never fetch PDOK): web-mercator PNG tiles drawn from the sample BAG addresses — each street as a line through
its house numbers, on a pale background — so maps show streets where the demo reports are."""

from __future__ import annotations

import csv
import io
import math
import threading
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

ADDRESSES = Path(__file__).resolve().parent.parent / "sample_data" / "geodata" / "adressen_amsterdam_bag_sample.csv"
SIZE = 256


def _pixel(lat: float, lon: float, z: int) -> tuple[float, float]:
    n = SIZE * 2 ** z
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return x, y


@lru_cache(maxsize=1)
def _streets() -> list[list[tuple[float, float]]]:
    by_street: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    with open(ADDRESSES, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_street[row["straatnaam"]].append((int(row["huisnummer"]), float(row["lat"]), float(row["lon"])))
    streets = []
    for points in by_street.values():
        points.sort()
        for parity in (0, 1):  # odd and even sides of a street each make one line
            side = [(lat, lon) for number, lat, lon in points if number % 2 == parity]
            if len(side) >= 2:
                streets.append(side)
    return streets


@lru_cache(maxsize=512)
def tile_png(z: int, x: int, y: int) -> bytes:
    image = Image.new("RGB", (SIZE, SIZE), (242, 239, 233))
    draw = ImageDraw.Draw(image)
    origin_x, origin_y = x * SIZE, y * SIZE
    width = max(2, int(2 ** (z - 13)))
    for street in _streets():
        line = []
        for lat, lon in street:
            px, py = _pixel(lat, lon, z)
            line.append((px - origin_x, py - origin_y))
        if any(-SIZE <= px <= 2 * SIZE and -SIZE <= py <= 2 * SIZE for px, py in line):
            draw.line(line, fill=(255, 255, 255), width=width + 4)
            draw.line(line, fill=(200, 196, 188), width=width)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class FakeTileServer:
    def __init__(self):
        self.requests: list[str] = []
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/{{z}}/{{x}}/{{y}}.png"

    @Request.application
    def wsgi(self, request: Request) -> Response:
        self.requests.append(request.path)
        try:
            z, x, y = (int(p) for p in request.path.strip("/").removesuffix(".png").split("/"))
        except ValueError:
            return Response("not a tile", status=404)
        return Response(tile_png(z, x, y), mimetype="image/png")

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()
