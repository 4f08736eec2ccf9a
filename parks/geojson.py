"""Checking an uploaded park boundary (pure rules: no Flask, no database)."""
from __future__ import annotations

import json
import math

POLYGON_TYPES = ("Polygon", "MultiPolygon")


class BoundaryError(ValueError):
    """The upload is not a usable boundary; the message says why, in Chinese."""


def parse_boundary(raw: bytes, *, max_bytes: int, extent: dict) -> dict:
    """Return the boundary as a FeatureCollection of polygons, or raise BoundaryError."""
    if len(raw) > max_bytes:
        raise BoundaryError(f"文件过大：边界文件不能超过 {max_bytes / 1024 / 1024:g} MiB。")
    if not raw.strip():
        raise BoundaryError("文件是空的。")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # deep nesting exhausts the parser
        raise BoundaryError("文件不是有效的 JSON，请上传 GeoJSON 文件（UTF-8 编码）。") from None
    if not isinstance(data, dict):
        raise BoundaryError("GeoJSON 的最外层必须是一个对象。")
    geometries = list(_geometries(data))
    if not geometries:
        raise BoundaryError("FeatureCollection 里没有任何多边形。")
    for index, geometry in enumerate(geometries, start=1):
        _check_polygon_geometry(geometry, index, extent)
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": g} for g in geometries],
    }


def _geometries(data: dict):
    kind = data.get("type")
    if kind in POLYGON_TYPES:
        yield {"type": kind, "coordinates": data.get("coordinates")}
    elif kind == "Feature":
        geometry = data.get("geometry")
        if not isinstance(geometry, dict) or geometry.get("type") not in POLYGON_TYPES:
            raise BoundaryError(f"要素的几何类型必须是 Polygon 或 MultiPolygon，收到的是 {_kind(geometry)}。")
        yield from _geometries(geometry)
    elif kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise BoundaryError("FeatureCollection 缺少 features 列表。")
        for number, feature in enumerate(features, start=1):
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise BoundaryError(f"第 {number} 个要素不是 Feature。")
            geometry = feature.get("geometry")
            if not isinstance(geometry, dict) or geometry.get("type") not in POLYGON_TYPES:
                raise BoundaryError(
                    f"第 {number} 个要素的几何类型必须是 Polygon 或 MultiPolygon，收到的是 {_kind(geometry)}。")
            yield from _geometries(geometry)
    else:
        raise BoundaryError(
            f"GeoJSON 类型必须是 Polygon、MultiPolygon 或由它们组成的 FeatureCollection，收到的是 {_kind(data)}。")


def _kind(obj) -> str:
    return str(obj.get("type")) if isinstance(obj, dict) and obj.get("type") else "空"


def _check_polygon_geometry(geometry: dict, index: int, extent: dict) -> None:
    coordinates = geometry["coordinates"]
    polygons = coordinates if geometry["type"] == "MultiPolygon" else [coordinates]
    if not isinstance(polygons, list) or not polygons:
        raise BoundaryError(f"第 {index} 个多边形没有坐标。")
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise BoundaryError(f"第 {index} 个多边形的坐标格式不正确。")
        for ring in polygon:
            _check_ring(ring, index, extent)


def _check_ring(ring, index: int, extent: dict) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        raise BoundaryError(f"第 {index} 个多边形的边界环至少需要 4 个坐标点（首尾相同）。")
    for point in ring:
        # Exactly [lon, lat] or [lon, lat, height]: anything more would be stored and served on the map.
        if not isinstance(point, list) or len(point) not in (2, 3) or not all(_is_number(v) for v in point):
            raise BoundaryError(f"第 {index} 个多边形含有不是 [经度, 纬度] 的坐标：{_preview(point)}。")
        lon, lat = point[0], point[1]
        if not _inside(lon, lat, extent):
            hint = "（经纬度顺序是否颠倒？GeoJSON 要求 [经度, 纬度]）" if _inside(lat, lon, extent) else ""
            raise BoundaryError(
                f"坐标 [{lon}, {lat}] 不在三明市范围内（北纬 {extent['lat_min']}–{extent['lat_max']}°，"
                f"东经 {extent['lon_min']}–{extent['lon_max']}°）{hint}。")
    if ring[0][:2] != ring[-1][:2]:
        raise BoundaryError(f"第 {index} 个多边形的边界环没有闭合（首尾坐标必须相同）。")


def _preview(point) -> str:
    # The first characters only: a coordinate may be a megabyte-long string.
    text = str(point[:4]) if isinstance(point, list) else str(point)[:40]
    return text[:40] + ("…" if len(text) > 40 else "")


def _inside(lon, lat, extent) -> bool:
    return extent["lon_min"] <= lon <= extent["lon_max"] and extent["lat_min"] <= lat <= extent["lat_max"]


def _is_number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float is no coordinate
        return False


def point_in_geometry(lon: float, lat: float, geometry: dict) -> bool:
    """Whether [lon, lat] lies inside a Polygon or MultiPolygon (inside an outer ring and no hole; even-odd rule)."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return any(_in_ring(lon, lat, rings[0]) and not any(_in_ring(lon, lat, hole) for hole in rings[1:])
               for rings in polygons)


def _in_ring(x: float, y: float, ring: list) -> bool:
    inside = False
    for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside
