"""Pure geometry for the map: the WGS-84 ⇄ GCJ-02 shift and spreading projects round their spot (no Flask, no DB)."""
from __future__ import annotations

import math

# The Krasovsky 1940 ellipsoid the GCJ-02 algorithm is defined on.
_A = 6378245.0
_EE = 0.00669342162296594323


def _shift_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """(lat, lon) on WGS-84 → (lat, lon) on GCJ-02, the offset grid every Gaode map is drawn on."""
    x, y = lon - 105.0, lat - 35.0
    d_lat, d_lon = _shift_lat(x, y), _shift_lon(x, y)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return lat + d_lat, lon + d_lon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """(lat, lon) on GCJ-02 → WGS-84. The shift has no closed inverse; it varies so slowly (metres per km) that
    subtracting the shift measured at the current guess converges to well under a millimetre in a few steps."""
    w_lat, w_lon = lat, lon
    for _ in range(6):
        g_lat, g_lon = wgs84_to_gcj02(w_lat, w_lon)
        w_lat, w_lon = w_lat + lat - g_lat, w_lon + lon - g_lon
    return w_lat, w_lon


def shift_geometry(geometry: dict, convert=wgs84_to_gcj02) -> dict:
    """A GeoJSON geometry with every [lon, lat] position moved to GCJ-02, or by ``convert`` (lat, lon → lat, lon);
    the input is not changed."""
    def move(coords):
        if coords and isinstance(coords[0], (int, float)):
            lat, lon = convert(coords[1], coords[0])
            return [lon, lat, *coords[2:]]
        return [move(c) for c in coords]

    if geometry["type"] == "GeometryCollection":
        return {**geometry, "geometries": [shift_geometry(g, convert) for g in geometry["geometries"]]}
    return {**geometry, "coordinates": move(geometry["coordinates"])}


# Projects carry no coordinates of their own: they sit at their park (or county seat). Spreading
# those sharing a spot on a golden-angle spiral keeps each one visible and clickable.
_GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))
SPREAD_STEP_DEG = 0.0012  # ≈130 m between neighbours near Sanming


def spread(lat: float, lon: float, index: int) -> tuple[float, float]:
    """The ``index``-th place on a spiral around (lat, lon); index 0 is the spot itself."""
    if index == 0:
        return lat, lon
    radius = SPREAD_STEP_DEG * math.sqrt(index)
    angle = index * _GOLDEN_ANGLE
    return lat + radius * math.sin(angle), lon + radius * math.cos(angle) / math.cos(math.radians(lat))
