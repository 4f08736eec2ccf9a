"""Unit tests of parks.geojson.parse_boundary: what a park boundary upload accepts and how it refuses."""
from __future__ import annotations

import json

import pytest

from core.auth.reference_data import EXTENT
from parks.geojson import BoundaryError, parse_boundary

MIB = 1024 * 1024

# A small square near 黄砂 (三元区), [lon, lat] as GeoJSON wants, and a second one near 明溪.
SQUARE = [[117.60, 26.30], [117.62, 26.30], [117.62, 26.32], [117.60, 26.32], [117.60, 26.30]]
HOLE = [[117.605, 26.305], [117.606, 26.305], [117.606, 26.306], [117.605, 26.305]]
MINGXI = [[117.20, 26.35], [117.22, 26.35], [117.22, 26.37], [117.20, 26.35]]
POLYGON = {"type": "Polygon", "coordinates": [SQUARE]}


def parse(data, *, max_bytes: int = 2 * MIB) -> dict:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return parse_boundary(raw, max_bytes=max_bytes, extent=EXTENT)


def refusal(data, **kwargs) -> str:
    with pytest.raises(BoundaryError) as caught:
        parse(data, **kwargs)
    message = str(caught.value)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), f"message not in Chinese: {message}"
    return message


def polygon_with(ring) -> dict:
    return {"type": "Polygon", "coordinates": [ring]}


def feature(geometry, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


# --- accepted, and normalised into a FeatureCollection of polygon features ---

def test_polygon_becomes_a_one_feature_collection():
    result = parse(POLYGON)
    assert result == {"type": "FeatureCollection",
                      "features": [{"type": "Feature", "properties": {}, "geometry": POLYGON}]}


def test_polygon_with_a_hole_is_accepted():
    geometry = {"type": "Polygon", "coordinates": [SQUARE, HOLE]}
    assert parse(geometry)["features"][0]["geometry"] == geometry


def test_multipolygon_is_kept_as_one_feature():
    geometry = {"type": "MultiPolygon", "coordinates": [[SQUARE], [MINGXI]]}
    result = parse(geometry)
    assert result["type"] == "FeatureCollection"
    assert [f["geometry"] for f in result["features"]] == [geometry]


def test_feature_is_unwrapped_and_its_properties_dropped():
    result = parse(feature(POLYGON, name="黄砂", note="<script>"))
    assert result["features"] == [{"type": "Feature", "properties": {}, "geometry": POLYGON}]


def test_feature_collection_keeps_every_polygon_in_order():
    second = {"type": "MultiPolygon", "coordinates": [[MINGXI]]}
    result = parse(collection(feature(POLYGON), feature(second, name="二期")))
    assert [f["geometry"] for f in result["features"]] == [POLYGON, second]
    assert all(f["type"] == "Feature" and f["properties"] == {} for f in result["features"])


def test_result_is_plain_json_data():
    result = parse(collection(feature(POLYGON)))
    assert json.loads(json.dumps(result)) == result


def test_utf8_byte_order_mark_is_tolerated():
    # Windows GIS tools often save "UTF-8 with BOM".
    raw = "\ufeff".encode() + json.dumps(feature(POLYGON, name="园区")).encode()
    assert parse(raw)["features"][0]["geometry"] == POLYGON


def test_third_coordinate_altitude_is_allowed():
    ring = [[lon, lat, 210.5] for lon, lat in SQUARE]
    assert parse(polygon_with(ring))["features"][0]["geometry"]["coordinates"] == [ring]


def test_integer_coordinates_and_a_file_of_exactly_max_bytes_are_accepted():
    ring = [[117, 26], [118, 26], [118, 27], [117, 26]]
    raw = json.dumps(polygon_with(ring)).encode()
    assert parse(raw.ljust(4096), max_bytes=4096)["features"][0]["geometry"]["coordinates"] == [ring]


# --- refused, with a Chinese message that says why ---

def test_invalid_json_is_refused():
    assert "不是有效的 JSON" in refusal(b'{"type": "Polygon", "coordinates": [[[117.6, 26.3],')


def test_bytes_that_are_not_utf8_are_refused():
    raw = json.dumps(feature(POLYGON, name="三明园区"), ensure_ascii=False).encode("gbk")
    assert "UTF-8" in refusal(raw)


@pytest.mark.parametrize("raw", [b"", b"   \n\t "], ids=["empty", "blank"])
def test_empty_file_is_refused(raw):
    assert "空" in refusal(raw)


def test_top_level_array_is_refused():
    assert "最外层必须是一个对象" in refusal([POLYGON])


@pytest.mark.parametrize("geometry", [
    {"type": "Point", "coordinates": [117.6, 26.3]},
    {"type": "LineString", "coordinates": [[117.6, 26.3], [117.7, 26.4]]},
    {"type": "MultiPoint", "coordinates": [[117.6, 26.3]]},
    {"type": "GeometryCollection", "geometries": [POLYGON]},
], ids=lambda g: g["type"])
def test_non_polygon_geometry_is_refused_naming_its_type(geometry):
    message = refusal(geometry)
    assert geometry["type"] in message
    assert "Polygon" in message


@pytest.mark.parametrize("geometry", [{"type": "Point", "coordinates": [117.6, 26.3]}, None])
def test_feature_without_a_polygon_is_refused(geometry):
    assert "Polygon 或 MultiPolygon" in refusal(feature(geometry))


def test_feature_collection_holding_a_point_is_refused_naming_the_feature():
    point = {"type": "Point", "coordinates": [117.6, 26.3]}
    message = refusal(collection(feature(POLYGON), feature(point)))
    assert "第 2 个要素" in message and "Point" in message


def test_feature_collection_member_that_is_not_a_feature_is_refused():
    assert "第 1 个要素不是 Feature" in refusal(collection(POLYGON))


def test_empty_feature_collection_is_refused():
    assert "没有任何多边形" in refusal(collection())


def test_feature_collection_without_features_list_is_refused():
    assert "features" in refusal({"type": "FeatureCollection"})


def test_unknown_type_is_refused():
    assert "GeoJSON 类型必须是" in refusal({"type": "Topology", "objects": {}})


def test_ring_with_fewer_than_four_points_is_refused():
    triangle_open = [[117.60, 26.30], [117.62, 26.30], [117.60, 26.30]]
    assert "至少需要 4 个坐标点" in refusal(polygon_with(triangle_open))


def test_unclosed_ring_is_refused():
    assert "没有闭合" in refusal(polygon_with(SQUARE[:-1] + [[117.61, 26.30]]))


def test_unclosed_hole_is_refused():
    assert "没有闭合" in refusal({"type": "Polygon", "coordinates": [SQUARE, HOLE[:-1] + [[117.6055, 26.3051]]]})


@pytest.mark.parametrize("coordinates", [None, [], "117.6,26.3", [[]]], ids=["null", "empty", "string", "no-ring"])
def test_polygon_without_usable_coordinates_is_refused(coordinates):
    refusal({"type": "Polygon", "coordinates": coordinates})


@pytest.mark.parametrize("bad", ["117.6", True, None, [117.6], {"lon": 117.6}], ids=repr)
def test_non_numeric_coordinate_is_refused(bad):
    ring = [list(p) for p in SQUARE]
    ring[1] = [bad, 26.3] if not isinstance(bad, list) else bad
    assert "不是 [经度, 纬度]" in refusal(polygon_with(ring))


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1" + b"0" * 400],
                         ids=["NaN", "Infinity", "-Infinity", "huge-integer"])
def test_non_finite_coordinate_is_refused(literal):
    # Python's json reads NaN and Infinity, and huge integers that no float can hold.
    raw = b'{"type":"Polygon","coordinates":[[[117.60,26.30],[%s,26.30],[117.62,26.32],[117.60,26.30]]]}' % literal
    assert "不是 [经度, 纬度]" in refusal(raw)


def test_boolean_latitude_is_refused():
    ring = [list(p) for p in SQUARE]
    ring[2] = [117.62, False]
    assert "不是 [经度, 纬度]" in refusal(polygon_with(ring))


def test_coordinate_outside_sanming_is_refused_naming_the_extent():
    ring = [[119.30, 26.08], [119.31, 26.08], [119.31, 26.09], [119.30, 26.08]]  # 福州, not 三明
    message = refusal(polygon_with(ring))
    assert "不在三明市范围内" in message
    assert "北纬 25.45–27.15°" in message and "东经 116.35–118.7°" in message
    assert "颠倒" not in message


def test_one_stray_point_outside_sanming_is_enough_to_refuse():
    ring = [list(p) for p in SQUARE]
    ring[2] = [117.62, 28.5]
    assert "不在三明市范围内" in refusal(collection(feature(polygon_with(ring))))


def test_swapped_lat_lon_is_refused_with_a_hint_about_the_order():
    swapped = [[lat, lon] for lon, lat in SQUARE]
    message = refusal(polygon_with(swapped))
    assert "不在三明市范围内" in message
    assert "经纬度顺序是否颠倒" in message and "[经度, 纬度]" in message


def test_oversized_input_is_refused_before_parsing():
    raw = json.dumps(POLYGON).encode().ljust(2 * MIB + 1)  # valid JSON: only the size is wrong
    message = refusal(raw)
    assert "文件过大" in message and "2 MiB" in message


def test_size_limit_is_the_one_given():
    raw = json.dumps(POLYGON).encode()
    assert "文件过大" in refusal(raw, max_bytes=len(raw) - 1)
    assert parse(raw, max_bytes=len(raw))["features"]


def test_deeply_nested_json_is_refused_not_crashed():
    assert "不是有效的 JSON" in refusal(b"[" * 100_000)


@pytest.mark.parametrize("extra", ["海拔", {"note": "x"}, [1], None, "x" * 1_500_000, 1.0])
def test_a_point_is_exactly_two_or_three_numbers(extra):
    # Extra members were once stored and then served in the map and the GeoJSON.
    for point in ([117.62, 26.30, extra], [117.62, 26.30, 100, extra]):
        if len(point) == 3 and isinstance(extra, float):
            continue  # [lon, lat, height] is a valid point
        ring = [list(p) for p in SQUARE]
        ring[1] = point
        assert "不是 [经度, 纬度] 的坐标" in refusal(polygon_with(ring))


def test_point_in_geometry_respects_holes_and_every_part():
    from parks.geojson import point_in_geometry

    outer = [[117.0, 26.0], [118.0, 26.0], [118.0, 27.0], [117.0, 27.0], [117.0, 26.0]]
    hole = [[117.4, 26.4], [117.6, 26.4], [117.6, 26.6], [117.4, 26.6], [117.4, 26.4]]
    island = [[116.5, 25.6], [116.7, 25.6], [116.7, 25.8], [116.5, 25.6]]
    geometry = {"type": "MultiPolygon", "coordinates": [[outer, hole], [island]]}
    assert point_in_geometry(117.2, 26.2, geometry)
    assert not point_in_geometry(117.5, 26.5, geometry)  # in the hole
    assert point_in_geometry(116.65, 25.65, geometry)  # in the second part
    assert not point_in_geometry(118.5, 26.5, geometry)
    assert point_in_geometry(117.2, 26.2, {"type": "Polygon", "coordinates": [outer, hole]})
