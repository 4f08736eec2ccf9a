"""Coordinates: the WGS-84 ⇄ GCJ-02 shift against published reference values, and the spiral spread."""
from __future__ import annotations

import math

import pytest

from maps.coords import gcj02_to_wgs84, shift_geometry, spread, wgs84_to_gcj02

# (WGS-84 lat, lon) → (GCJ-02 lat, lon): the reference pairs the open eviltransform test suites use.
REFERENCE = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]


def metres(a, b) -> float:
    d_lat = (b[0] - a[0]) * 111_320
    d_lon = (b[1] - a[1]) * 111_320 * math.cos(math.radians(a[0]))
    return math.hypot(d_lat, d_lon)


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_matches_reference_values(wgs, gcj):
    lat, lon = wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-7) and lon == pytest.approx(gcj[1], abs=1e-7)


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE + [((26.2689, 117.6301), wgs84_to_gcj02(26.2689, 117.6301))])
def test_the_inverse_shift_gets_back_within_a_millimetre(wgs, gcj):
    assert metres(gcj02_to_wgs84(*gcj), wgs) < 0.001
    assert metres(gcj02_to_wgs84(*gcj), gcj) > 400  # it did move


def test_shift_near_sanming_is_about_600_metres():
    centre = (26.2689, 117.6301)
    shifted = wgs84_to_gcj02(*centre)
    assert 500 < metres(centre, shifted) < 750
    assert shifted[1] > centre[1] and shifted[0] < centre[0]  # east and south, as on Gaode's tiles


def test_shift_geometry_moves_every_vertex_and_leaves_the_input_alone():
    ring = [[117.6, 26.2], [117.7, 26.2], [117.7, 26.3], [117.6, 26.2]]
    polygon = {"type": "MultiPolygon", "coordinates": [[ring]]}
    moved = shift_geometry(polygon)
    assert polygon["coordinates"][0][0] == ring  # stored data never changes
    for (lon, lat), (new_lon, new_lat) in zip(ring, moved["coordinates"][0][0]):
        assert (new_lat, new_lon) == pytest.approx(wgs84_to_gcj02(lat, lon))
    point = shift_geometry({"type": "Point", "coordinates": [117.63, 26.27]})
    assert point["coordinates"] == pytest.approx(list(reversed(wgs84_to_gcj02(26.27, 117.63))))


def test_spread_keeps_the_first_in_place_and_the_rest_apart_and_near():
    spots = [spread(26.27, 117.63, index) for index in range(200)]
    assert spots[0] == (26.27, 117.63)
    assert len(set(spots)) == 200
    assert max(metres(spots[0], spot) for spot in spots) < 3_000
    nearest = min(metres(a, b) for i, a in enumerate(spots[:50]) for b in spots[i + 1:50])
    assert nearest > 50
