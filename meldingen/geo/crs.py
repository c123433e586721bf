"""The one conversion between WGS84 (lon/lat) and RD New (EPSG:28992), used for every stored geometry.

The approximation formulas of Schreutelkamp and Strang van Hees (2001), accurate to well under a metre in
the Netherlands. Why not pyproj: its wheel bundles its own PROJ, and when mod_spatialite loads the system
PROJ into the same process the two collide and the interpreter crashes at exit. Why not the database's
ST_Transform: one transform in Python keeps both databases and the in-memory indexes bit-for-bit equal,
so a point stored from lat/lon and queried by the same lat/lon is at distance 0.
"""

from __future__ import annotations

from meldingen.db import RD_SRID

_PHI0, _LAM0 = 52.15517440, 5.38720621  # Amersfoort, the origin of RD
_X0, _Y0 = 155000.0, 463000.0

# (p, q, coefficient): X = X0 + sum(R_pq * dphi^p * dlam^q), with dphi, dlam in units of 10,000 arc seconds.
_R = [(0, 1, 190094.945), (1, 1, -11832.228), (2, 1, -114.221), (0, 3, -32.391), (1, 0, -0.705),
      (3, 1, -2.340), (1, 3, -0.608), (0, 2, -0.008), (2, 3, 0.148)]
_S = [(1, 0, 309056.544), (0, 2, 3638.893), (2, 0, 73.077), (1, 2, -157.984), (3, 0, 59.788),
      (0, 1, 0.433), (2, 2, -6.439), (1, 1, -0.032), (0, 4, 0.092), (1, 4, -0.054)]
# phi = phi0 + sum(K_pq * dX^p * dY^q) / 3600, with dX, dY in units of 100 km.
_K = [(0, 1, 3235.65389), (2, 0, -32.58297), (0, 2, -0.24750), (2, 1, -0.84978), (0, 3, -0.06550),
      (2, 2, -0.01709), (1, 0, -0.00738), (4, 0, 0.00530), (2, 3, -0.00039), (4, 1, 0.00033), (1, 1, -0.00012)]
_L = [(1, 0, 5260.52916), (1, 1, 105.94684), (1, 2, 2.45656), (3, 0, -0.81885), (1, 3, 0.05594),
      (3, 1, -0.05607), (0, 1, 0.01199), (3, 2, -0.00256), (1, 4, 0.00128), (0, 2, 0.00022), (2, 0, -0.00022),
      (5, 0, 0.00026)]


def to_rd(lon: float, lat: float) -> tuple[float, float]:
    dphi = 0.36 * (lat - _PHI0)
    dlam = 0.36 * (lon - _LAM0)
    x = _X0 + sum(c * dphi**p * dlam**q for p, q, c in _R)
    y = _Y0 + sum(c * dphi**p * dlam**q for p, q, c in _S)
    return x, y


def from_rd(x: float, y: float) -> tuple[float, float]:
    dx = (x - _X0) * 1e-5
    dy = (y - _Y0) * 1e-5
    lat = _PHI0 + sum(c * dx**p * dy**q for p, q, c in _K) / 3600.0
    lon = _LAM0 + sum(c * dx**p * dy**q for p, q, c in _L) / 3600.0
    return lon, lat


def rd_point_ewkt(lon: float, lat: float) -> str:
    x, y = to_rd(lon, lat)
    return f"SRID={RD_SRID};POINT({x!r} {y!r})"


def transform_geometry_to_rd(geometry):
    """A shapely geometry in lon/lat turned into RD New (works on coordinate arrays)."""
    import shapely

    def convert(coords):
        import numpy as np

        lon, lat = coords[:, 0], coords[:, 1]
        dphi = 0.36 * (lat - _PHI0)
        dlam = 0.36 * (lon - _LAM0)
        x = _X0 + sum(c * dphi**p * dlam**q for p, q, c in _R)
        y = _Y0 + sum(c * dphi**p * dlam**q for p, q, c in _S)
        return np.column_stack([x, y])

    return shapely.transform(geometry, convert)
