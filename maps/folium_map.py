"""Drawing the park-and-project map with folium (the one module that imports it) from plain GeoJSON."""
from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
from pathlib import Path

import folium
from folium.template import Template
from xstatic.pkg import leaflet

from core.auth.reference_data import EXTENT
from projects.stages import Stage

from .coords import shift_geometry, wgs84_to_gcj02
from .escaping import safe_text
from .escaping import script_json as _script_json
from .escaping import script_json_bytes as _script_json_bytes
from .queries import LIGHT_LABELS, STAGE_LABELS, ProjectPoint
from .tiles import tile_layers

# The map opens on the city's extent (south-west and north-east corners), the one the queries use
# to reject positions outside Sanming.
BOUNDS = [[EXTENT["lat_min"], EXTENT["lon_min"]], [EXTENT["lat_max"], EXTENT["lon_max"]]]
CENTRE = [round((EXTENT["lat_min"] + EXTENT["lat_max"]) / 2, 4), round((EXTENT["lon_min"] + EXTENT["lon_max"]) / 2, 4)]

# The map's own script and styles, inlined into every page (the frame's scripts run by their digests).
LAYERS_JS = (Path(__file__).resolve().parent.parent / "static" / "js" / "map_layers.js").read_text(encoding="utf-8")
LAYERS_CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "map_layers.css"
CHOROPLETHS = {"investment": "总投资", "count": "项目数", "start_rate": "开工率"}

# Files the map loads, served by the app at /vendor/<package>/<path> from the installed wheels.
VENDOR_DIRS = {"leaflet": leaflet.BASE_DIR}
MAP_JS = [("leaflet", "leaflet", "leaflet.js")]
MAP_CSS = [("leaflet_css", "leaflet", "leaflet.css")]

STAGE_COLORS = {
    Stage.NEGOTIATING: "#9e9e9e", Stage.SIGNED: "#1f77b4", Stage.APPROVAL: "#17becf",
    Stage.STARTED: "#ff7f0e", Stage.COMPLETED: "#9467bd", Stage.PRODUCING: "#2ca02c",
    Stage.PAUSED: "#8c564b", Stage.DROPPED: "#343a40",
}
FALLBACK_COLOR = "#6c757d"
_COLOR_RE = re.compile(r"#[0-9a-fA-F]{6}")


def configure_assets(prefix: str = "/vendor") -> None:
    """Point folium at the app's own copies of Leaflet, once at start-up; drop the CDN defaults
    (jQuery, Bootstrap, Awesome Markers) the map does not use."""
    folium.Map.default_js = [(name, f"{prefix}/{package}/{path}") for name, package, path in MAP_JS]
    folium.Map.default_css = [(name, f"{prefix}/{package}/{path}") for name, package, path in MAP_CSS]


_DATA_SLOT = re.compile(rb"__sanming_data_\d+__")
# folium names each element <kind>_<32 random hex digits>; the page renames them in order of appearance.
_FOLIUM_ID = re.compile(r"(?<=[a-z])_([0-9a-f]{32})(?![0-9a-f])")


def _safe_color(value: str) -> str:
    return value if value and _COLOR_RE.fullmatch(value) else FALLBACK_COLOR


def _prepared(features: list[dict], *, gcj02: bool) -> list[dict]:
    """Copies of ``features`` with every string property escaped, colours checked, and the geometry
    moved to GCJ-02 for Gaode's tiles (what is stored stays WGS-84)."""
    prepared = []
    for feature in features:
        properties = {key: safe_text(value) if isinstance(value, str) else value
                      for key, value in feature["properties"].items()}
        if "color" in properties:
            properties["color"] = _safe_color(feature["properties"]["color"])
        geometry = shift_geometry(feature["geometry"]) if gcj02 else feature["geometry"]
        prepared.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return prepared


# A project row in the page, in this order; the map's script makes each a GeoJSON feature (sanmingMap.projects).
PROJECT_ROW = ("id", "lon", "lat", "name", "investor", "county", "park", "investment", "light")


def _project_layers(points: list[ProjectPoint], *, gcj02: bool) -> dict[str, list[tuple]]:
    """The projects' rows (PROJECT_ROW) by stage, their text escaped (once per distinct county and park: those
    repeat), on GCJ-02 for Gaode's tiles. Rows, not features: a third of the bytes to write, gzip and parse."""
    escaped: dict[str, str] = {}
    layers: dict[str, list[tuple]] = {}
    for pid, name, investor, county, park, investment, _major, stage, light, lon, lat in points:
        if gcj02:
            lat, lon = wgs84_to_gcj02(lat, lon)
        if county not in escaped:
            escaped[county] = safe_text(county)
        if park not in escaped:
            escaped[park] = safe_text(park)
        layers.setdefault(stage, []).append((pid, lon, lat, safe_text(name), safe_text(investor), escaped[county],
                                             escaped[park], investment, light))
    return layers


def _stage_photos(rows: list[tuple], photos: dict[int, int]) -> dict[str, int]:
    """The photos of one stage's projects by project id (a row's first value), as JSON's text keys."""
    return {str(row[0]): photos[row[0]] for row in rows if row[0] in photos}


def _slot(slots: dict[bytes, bytes], content: bytes) -> str:
    """A placeholder for ``content``, put in by _page after folium has rendered: folium compiles every element's
    text as a Jinja template, and the map's own script and styles (30 KB) cost each cold build 20 ms that way."""
    slot = f"__sanming_data_{len(slots)}__"  # numbered, not named: folium's names are random
    slots[slot.encode()] = content
    return slot


class _Helpers(folium.MacroElement):
    """The JS that turns one GeoJSON blob into circle markers or polygons with tooltips and popups."""

    _template = Template("""
{% macro script(this, kwargs) %}
var sanmingMap = (function () {
  var stageColors = {{ this.stage_colors }}, stageLabels = {{ this.stage_labels }}, lightLabels = {{ this.light_labels }};
  function row(label, value) { return '<tr><th class="pe-2">' + label + '</th><td>' + value + '</td></tr>'; }
  function money(v) { return v >= 10000 ? (v / 10000).toFixed(2) + ' 亿元' : v.toLocaleString('zh-CN') + ' 万元'; }
  function table(title, rows, link, extra) {
    return '<div class="sanming-popup"><strong>' + title + '</strong><table>' + rows.join('') + '</table>'
      + (extra || '') + (link ? '<a href="' + link + '" target="_top">查看详情</a>' : '') + '</div>';
  }
  function photo(id) {  // the project's newest site photo (an attachment id: a number, never text)
    return id ? '<img src="/attachments/' + Number(id) + '/thumb" alt="最新现场照片" class="sanming-popup-photo"'
      + ' style="display:block;max-width:200px;max-height:150px;margin:4px 0">' : '';
  }
  return {
    projects: function (data, links) {
      var photos = data.photos || {};
      var features = data.rows.map(function (r) {
        return {type: 'Feature', geometry: {type: 'Point', coordinates: [r[1], r[2]]},
                properties: {id: r[0], name: r[3], investor: r[4], county: r[5], park: r[6], investment: r[7],
                             stage: data.stage, light: r[8]}};
      });
      return L.geoJSON({type: 'FeatureCollection', features: features}, {
        pointToLayer: function (feature, latlng) {
          var p = feature.properties, red = p.light === 'red';
          return L.circleMarker(latlng, {
            radius: Math.max(4, Math.min(20, 3 + Math.sqrt(p.investment / 1000))),
            fillColor: stageColors[p.stage], fillOpacity: 0.8,
            color: red ? '#dc3545' : '#ffffff', weight: red ? 2.5 : 1});
        },
        onEachFeature: function (feature, layer) {
          var p = feature.properties;
          layer.bindTooltip(function () { return p.name; });
          layer.bindPopup(function () {
            return table(p.name, [row('投资方', p.investor), row('县区', p.county), row('园区', p.park || '—'),
              row('总投资', money(p.investment)), row('阶段', stageLabels[p.stage]), row('亮灯', lightLabels[p.light])],
              links ? '/projects/' + p.id : '', photo(photos[p.id]));
          });
        }
      });
    },
    parks: function (data, links) {
      return L.geoJSON(data, {
        style: function (feature) { return {color: feature.properties.color, weight: 2, fillOpacity: 0.2}; },
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, {radius: 12, color: feature.properties.color, weight: 3,
                                         fillColor: feature.properties.color, fillOpacity: 0.2, dashArray: '4 3'});
        },
        onEachFeature: function (feature, layer) {
          var p = feature.properties;
          layer.bindTooltip(function () { return p.name; });
          layer.bindPopup(function () {
            return table(p.name, [row('产业', p.industry || '—'), row('集聚区', p.zone || '—'), row('县区', p.county),
              row('位置', p.position_confidence)].concat(sanmingLayers.capacityRows(p.capacity)),
              links ? '/parks/' + p.id : '');
          });
        }
      });
    }
  };
})();
{{ this.layers_js }}
sanmingLayers.setup({stageColors: {{ this.stage_colors }}, stageLabels: {{ this.stage_labels }}, links: {{ this.links }}});
{% endmacro %}
""")

    def __init__(self, links: bool, slots: dict[bytes, bytes]):
        super().__init__()
        self.layers_js = _slot(slots, LAYERS_JS.encode())
        self.links = "true" if links else "false"
        self.stage_colors = _script_json({stage.value: color for stage, color in STAGE_COLORS.items()})
        self.stage_labels = _script_json({code: safe_text(label) for code, label in STAGE_LABELS.items()})
        self.light_labels = _script_json({code: safe_text(label) for code, label in LIGHT_LABELS.items()})


class _DataBlob(folium.MacroElement):
    """One layer's data as a single JSON blob, drawn by a JS callback (never one folium object each): the parks
    as a GeoJSON FeatureCollection, the projects of one stage as rows.

    The script holds only a slot, filled in after folium has rendered (_page), because folium
    re-compiles every rendered script as a Jinja template, which for megabytes of JSON costs
    a quarter of a second at 10,000 projects."""

    _template = Template("""
{% macro script(this, kwargs) %}
sanmingMap.{{ this.kind }}({{ this.slot }}, {{ this.links }}).addTo({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, kind: str, data: dict, links: bool, slots: dict[bytes, bytes]):
        super().__init__()
        self.kind = kind
        self.slot = _slot(slots, _script_json_bytes(data))
        self.links = "true" if links else "false"


class _LayerScript(folium.MacroElement):
    """A statement of static/js/map_layers.js on ``{parent}`` (this layer) and ``{map}``; its ``{data}`` goes in a
    slot filled after folium has rendered (see _DataBlob)."""

    _template = Template("""
{% macro script(this, kwargs) %}
{{ this.code.replace('{parent}', this._parent.get_name()).replace('{map}', this.map_name) }}
{% endmacro %}
""")

    def __init__(self, code: str, map_name: str, data=None, slots: dict[bytes, bytes] | None = None):
        super().__init__()
        if data is not None:
            code = code.replace("{data}", _slot(slots, _script_json_bytes(data)))
        self.code, self.map_name = code, map_name


def _legend_html(industries: list[tuple[str, str]]) -> str:
    def swatch(color, label, round_=True):
        kind = "dot" if round_ else "swatch"
        return f'<div><span class="sanming-{kind}" style="background:{color}"></span>{label}</div>'

    parts = ["<strong>园区汇总（城市视图）</strong>", swatch("#fd7e14", "园区：项目数与总投资"),
             swatch("#6c757d", "园区外项目（县城）"), "<div>圆大小：总投资；放大后显示各项目</div>",
             "<strong>项目阶段</strong>"] + [swatch(color, stage.label) for stage, color in STAGE_COLORS.items()]
    parts += ["<div>红色描边：逾期（红灯）</div>", "<div>圆点大小：总投资</div>"]
    if industries:
        parts += ["<strong>园区（按产业）</strong>"] + [swatch(color, name, False) for name, color in industries]
    return "".join(parts)


def _add_tiles(fmap: folium.Map, tiles: str, tiles_url: str, token: str) -> None:
    for url, attr, name, subdomains in tile_layers(tiles, tiles_url, token):
        folium.TileLayer(url, attr=attr, name=name, subdomains=subdomains, control=False).add_to(fmap)


def _prepared_bubbles(bubbles: list[dict], misplaced: set[int], *, gcj02: bool) -> list[dict]:
    """The park bubbles, text escaped, those outside their county marked, on GCJ-02 for Gaode's tiles."""
    prepared = []
    for bubble in bubbles:
        lat, lon = wgs84_to_gcj02(bubble["lat"], bubble["lon"]) if gcj02 else (bubble["lat"], bubble["lon"])
        prepared.append({**bubble, "name": safe_text(bubble["name"]), "county": safe_text(bubble["county"]),
                         "zone": safe_text(bubble["zone"]), "lat": round(lat, 5), "lon": round(lon, 5),
                         "misplaced": bubble["id"] in misplaced})
    return prepared


def _prepared_counties(counties: dict, *, gcj02: bool) -> dict:
    features = _prepared(counties["features"], gcj02=gcj02)
    for properties in (feature["properties"] for feature in features if gcj02):  # the names' places too
        lat, lon = wgs84_to_gcj02(properties["label"][1], properties["label"][0])
        properties["label"] = [round(lon, 5), round(lat, 5)]
    return {"type": "FeatureCollection", "features": features}


def build_map(parks: dict, projects: list[ProjectPoint], *, counties: dict | None = None,
              bubbles: list[dict] = (), misplaced: set[int] = frozenset(), tiles: str = "none", tiles_url: str = "",
              token: str = "", links: bool = True, photos: dict[int, int] | None = None) -> folium.Map:
    """The map: county outlines and names, a choropleth to choose, one bubble per park at city zoom, parks by
    industry (their zone), projects by stage past the detail zoom, a legend and a layer control.

    ``parks``/``counties`` are FeatureCollections, ``bubbles`` from maps.summaries, ``projects`` from maps.queries,
    with raw text, escaped here; ``misplaced`` the parks outside their county (位置待核实). With ``tiles="gaode"``
    every vertex is shifted WGS-84 → GCJ-02. ``photos`` (project id → attachment id) puts each project's newest
    photo in its popup."""
    gcj02 = tiles == "gaode"
    # Quarter zoom steps: the city fills the frame instead of a whole step smaller.
    fmap = folium.Map(location=CENTRE, zoom_start=8, tiles=None, prefer_canvas=True, control_scale=True,
                      attribution_control=tiles != "none", height="100%", zoom_snap=0.25, zoom_delta=0.5)
    _add_tiles(fmap, tiles, tiles_url, token)
    if not (counties and counties["features"]):
        fmap.fit_bounds(BOUNDS)  # else the outlines fit the map to the city, unanimated (a zoom in flight drops others)
    fmap.sanming_slots = {}  # slot → JSON, script or style, filled in by _page
    fmap.get_root().header.add_child(folium.Element(_slot(fmap.sanming_slots, _inline_css(str(LAYERS_CSS)).encode())))
    _Helpers(links, fmap.sanming_slots).add_to(fmap)
    map_name, slots = fmap.get_name(), fmap.sanming_slots

    if counties is not None:
        # Base layers (one at a time): no fill, or the counties filled by one measure.
        folium.FeatureGroup(name="县区着色：无", overlay=False).add_to(fmap)
        outlines = folium.FeatureGroup(name="县区边界与名称", control=False).add_to(fmap)
        _LayerScript("sanmingLayers.outlines({data}, {map}).addTo({parent});", map_name,
                     _prepared_counties(counties, gcj02=gcj02), slots).add_to(outlines)
        for key, label in CHOROPLETHS.items():
            group = folium.FeatureGroup(name=f"县区着色：{label}", overlay=False, show=False).add_to(fmap)
            _LayerScript(f"sanmingLayers.choropleth('{key}', {{map}}).addTo({{parent}});", map_name).add_to(group)

    by_industry: dict[str, list[dict]] = {}
    for feature in _prepared(parks["features"], gcj02=gcj02):
        by_industry.setdefault(feature["properties"]["industry"], []).append(feature)
    industries = []
    for industry, features in by_industry.items():
        layout = features[0]["properties"]["layout"]  # 一区N园: the industry's parks read as one cluster
        name = f"园区 · {industry or '其他'}" + (f"（{layout}）" if layout else "")
        group = folium.FeatureGroup(name=name).add_to(fmap)
        _DataBlob("parks", {"type": "FeatureCollection", "features": features}, links, slots).add_to(group)
        industries.append((industry or "其他", features[0]["properties"]["color"]))

    group = folium.FeatureGroup(name=f"园区汇总（{len(bubbles)}）").add_to(fmap)
    _LayerScript("sanmingLayers.cityOnly(sanmingLayers.bubbles({data}, {map}), {parent}, {map});", map_name,
                 _prepared_bubbles(list(bubbles), misplaced, gcj02=gcj02), slots).add_to(group)

    by_stage = _project_layers(projects, gcj02=gcj02)
    for stage in STAGE_COLORS:
        if stage.value in by_stage:
            group = folium.FeatureGroup(name=f"项目 · {stage.label}（{len(by_stage[stage.value])}）").add_to(fmap)
            rows = by_stage[stage.value]
            _LayerScript(f"sanmingLayers.detail(sanmingMap.projects({{data}}, {'true' if links else 'false'}), "
                         "{parent}, {map});", map_name,
                         {"stage": stage.value, "rows": rows, "photos": _stage_photos(rows, photos or {})},
                         slots).add_to(group)

    _LayerScript(f"sanmingLayers.legend({{map}}, {_script_json(_legend_html(industries))});", map_name).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


def _page(fmap: folium.Map) -> bytes:
    """The map as an HTML document that loads Leaflet from the app (/vendor/...), as UTF-8: the same bytes for
    the same data in every worker (folium's random element names renamed in order)."""
    ids: dict[str, int] = {}
    skeleton = _FOLIUM_ID.sub(lambda match: f"_{ids.setdefault(match.group(1), len(ids))}",
                              fmap.get_root().render()).encode()
    # The data goes in last, in one pass: it is never scanned for names or slots, whatever text it holds.
    return _DATA_SLOT.sub(lambda match: fmap.sanming_slots[match.group(0)], skeleton)


def render_page(fmap: folium.Map) -> str:
    return _page(fmap).decode()


def render_frame(fmap: folium.Map) -> tuple[bytes, list[str]]:
    """The map page for the app's frame, and the SHA-256 (base64) of each inline script, for the page's
    Content-Security-Policy: a page kept in the cache cannot carry a new request's nonce."""
    page = _page(fmap)
    digests, start = [], page.find(b"<script")
    while start != -1:
        body = page.index(b">", start) + 1
        end = page.index(b"</script>", body)  # the data holds no "<": this is the script's own end
        if b" src=" not in page[start:body]:
            digests.append(base64.b64encode(hashlib.sha256(page[body:end]).digest()).decode())
        start = page.find(b"<script", end)
    return page, digests


@functools.cache
def _inline_js(path: str) -> str:
    return "<script>" + Path(path).read_text(encoding="utf-8").replace("</script", "<\\/script") + "</script>"


@functools.cache
def _inline_css(path: str) -> str:
    """A stylesheet as a <style> block, its images turned into data: URIs."""
    folder = Path(path).parent

    def data_uri(match):
        return "url(data:image/png;base64," + base64.b64encode((folder / match.group(1)).read_bytes()).decode() + ")"

    return "<style>" + re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, Path(path).read_text(encoding="utf-8")) \
        + "</style>"


def render_standalone(fmap: folium.Map, prefix: str = "/vendor") -> str:
    """The map as one self-contained HTML file: Leaflet's script, styles and images inlined."""
    page = render_page(fmap)
    for _name, package, path in MAP_JS:
        page = page.replace(f'<script src="{prefix}/{package}/{path}"></script>',
                            _inline_js(os.path.join(VENDOR_DIRS[package], path)))
    for _name, package, path in MAP_CSS:
        page = page.replace(f'<link rel="stylesheet" href="{prefix}/{package}/{path}"/>',
                            _inline_css(os.path.join(VENDOR_DIRS[package], path)))
    return page
