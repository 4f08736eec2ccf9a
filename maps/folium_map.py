"""Drawing the park-and-project map with folium (the one module that imports it) from plain GeoJSON."""
from __future__ import annotations

import base64
import functools
import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import folium
from folium.template import Template
from xstatic.pkg import leaflet

from core.auth.reference_data import EXTENT
from projects.stages import Stage

from .coords import shift_geometry

# The map opens on the city's extent (south-west and north-east corners), the one the queries use
# to reject positions outside Sanming.
BOUNDS = [[EXTENT["lat_min"], EXTENT["lon_min"]], [EXTENT["lat_max"], EXTENT["lon_max"]]]
CENTRE = [round((EXTENT["lat_min"] + EXTENT["lat_max"]) / 2, 4), round((EXTENT["lon_min"] + EXTENT["lon_max"]) / 2, 4)]

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
_ORIGIN_RE = re.compile(r"(https?://)?[A-Za-z0-9.-]+(:[0-9]{1,5})?")

TIANDITU_URL = "https://t{s}.tianditu.gov.cn/DataServer?T=%s_w&x={x}&y={y}&l={z}&tk=%s"
TILE_LAYERS = {
    "gaode": ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
              "高德地图", "1234"),
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "&copy; OpenStreetMap contributors", "abc"),
}


def configure_assets(prefix: str = "/vendor") -> None:
    """Point folium at the app's own copies of Leaflet, once at start-up; drop the CDN defaults
    (jQuery, Bootstrap, Awesome Markers) the map does not use."""
    folium.Map.default_js = [(name, f"{prefix}/{package}/{path}") for name, package, path in MAP_JS]
    folium.Map.default_css = [(name, f"{prefix}/{package}/{path}") for name, package, path in MAP_CSS]


# One C-level pass per string: HTML's five, the three that matter inside a JS template literal, and
# braces, because folium compiles each element's rendered script as a Jinja template ("{{ }}" would run).
_SAFE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;",
                       "\\": "&#92;", "`": "&#96;", "$": "&#36;", "{": "&#123;", "}": "&#125;"})
_DATA_SLOT = re.compile(r"__sanming_data_\w+__")
_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)", re.I)


def safe_text(value: str) -> str:
    """Text from the database, made inert both as HTML and inside a JS template literal."""
    return value.translate(_SAFE)


def _safe_color(value: str) -> str:
    return value if value and _COLOR_RE.fullmatch(value) else FALLBACK_COLOR


def _script_json(data) -> str:
    # Every string is already entity-escaped; "<" is escaped again so no "</script>" can ever form.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


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


class _Helpers(folium.MacroElement):
    """The JS that turns one GeoJSON blob into circle markers or polygons with tooltips and popups."""

    _template = Template("""
{% macro script(this, kwargs) %}
var sanmingMap = (function () {
  var stageColors = {{ this.stage_colors }};
  function row(label, value) { return '<tr><th class="pe-2">' + label + '</th><td>' + value + '</td></tr>'; }
  function money(v) { return v >= 10000 ? (v / 10000).toFixed(2) + ' 亿元' : v.toLocaleString('zh-CN') + ' 万元'; }
  function table(title, rows, link) {
    return '<div class="sanming-popup"><strong>' + title + '</strong><table>' + rows.join('') + '</table>'
      + (link ? '<a href="' + link + '" target="_top">查看详情</a>' : '') + '</div>';
  }
  return {
    projects: function (data, links) {
      return L.geoJSON(data, {
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
              row('总投资', money(p.investment)), row('阶段', p.stage_label), row('亮灯', p.light_label)],
              links ? '/projects/' + p.id : '');
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
              row('位置', p.position_confidence)], links ? '/parks/' + p.id : '');
          });
        }
      });
    }
  };
})();
{% endmacro %}
""")

    def __init__(self):
        super().__init__()
        self.stage_colors = _script_json({stage.value: color for stage, color in STAGE_COLORS.items()})


class _GeoJsonBlob(folium.MacroElement):
    """One layer's features as a single GeoJSON blob, drawn by a JS callback (never one object each).

    The script holds only a slot; render_page fills it after folium has rendered, because folium
    re-compiles every rendered script as a Jinja template, which for megabytes of JSON costs
    a quarter of a second at 10,000 projects."""

    _template = Template("""
{% macro script(this, kwargs) %}
sanmingMap.{{ this.kind }}({{ this.slot }}, {{ this.links }}).addTo({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, kind: str, features: list[dict], links: bool, slots: dict[str, str]):
        super().__init__()
        self.kind = kind
        self.slot = f"__sanming_data_{self.get_name()}__"
        slots[self.slot] = _script_json({"type": "FeatureCollection", "features": features})
        self.links = "true" if links else "false"


class _Legend(folium.MacroElement):
    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var legend = L.control({position: 'bottomright'});
  legend.onAdd = function () {
    var div = L.DomUtil.create('div', 'sanming-legend');
    div.style.cssText = 'background:#fff;padding:6px 8px;border-radius:4px;font-size:12px;line-height:18px;box-shadow:0 1px 4px rgba(0,0,0,.3)';
    div.innerHTML = {{ this.html }};
    return div;
  };
  legend.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
""")

    def __init__(self, industries: list[tuple[str, str]]):
        super().__init__()

        def swatch(color, label, round_=True):
            radius = "50%" if round_ else "2px"
            return (f'<div><span style="display:inline-block;width:10px;height:10px;border-radius:{radius};'
                    f'background:{color};margin-right:4px"></span>{label}</div>')

        parts = ["<strong>项目阶段</strong>"] + [swatch(color, stage.label) for stage, color in STAGE_COLORS.items()]
        parts += ["<div>红色描边：逾期（红灯）</div>", "<div>圆点大小：总投资</div>"]
        if industries:
            parts += ["<strong>园区（按产业）</strong>"] + [swatch(color, name, False) for name, color in industries]
        self.html = _script_json("".join(parts))


def _tile_layers(tiles: str, tiles_url: str, token: str) -> list[tuple[str, str, str, str]]:
    """The basemap's layers as (URL template, attribution, name, subdomains); none for ``tiles="none"``."""
    if tiles == "local":
        return [(tiles_url, "内网底图", "底图", "abc")]
    if tiles == "tianditu":
        return [(TIANDITU_URL % (layer, token), "天地图", name, "01234567")
                for layer, name in (("vec", "天地图"), ("cva", "天地图注记"))]
    if tiles in TILE_LAYERS:
        url, attr, subdomains = TILE_LAYERS[tiles]
        return [(url, attr, "底图", subdomains)]
    return []


def _add_tiles(fmap: folium.Map, tiles: str, tiles_url: str, token: str) -> None:
    for url, attr, name, subdomains in _tile_layers(tiles, tiles_url, token):
        folium.TileLayer(url, attr=attr, name=name, subdomains=subdomains, control=False).add_to(fmap)


def tile_origins(tiles: str, tiles_url: str = "", token: str = "") -> list[str]:
    """The origins the basemap's tiles load from, for the Content-Security-Policy's img-src.

    A tile URL on the app's own host (``/tiles/...``) needs none; one that does not look like a plain
    origin is left out rather than let into the header."""
    origins = []
    for url, _attr, _name, subdomains in _tile_layers(tiles, tiles_url, token):
        for subdomain in subdomains:
            parts = urlsplit(url.replace("{s}", subdomain))
            origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme else parts.netloc
            if parts.netloc and _ORIGIN_RE.fullmatch(origin):
                origins.append(origin)
    return list(dict.fromkeys(origins))


def build_map(parks: dict, projects: dict, *, tiles: str = "none", tiles_url: str = "", token: str = "",
              links: bool = True) -> folium.Map:
    """The map: parks grouped by industry (their zone), projects by stage, a legend and a layer control.

    ``parks`` and ``projects`` are FeatureCollections from maps.queries with raw text; it is escaped
    here before folium sees it. With ``tiles="gaode"`` every vertex is shifted WGS-84 → GCJ-02."""
    gcj02 = tiles == "gaode"
    fmap = folium.Map(location=CENTRE, zoom_start=8, tiles=None, prefer_canvas=True, control_scale=True,
                      attribution_control=tiles != "none", height="100%")
    _add_tiles(fmap, tiles, tiles_url, token)
    fmap.fit_bounds(BOUNDS)
    _Helpers().add_to(fmap)
    fmap.sanming_slots = {}  # slot → JSON, filled in by render_page

    by_industry: dict[str, list[dict]] = {}
    for feature in _prepared(parks["features"], gcj02=gcj02):
        by_industry.setdefault(feature["properties"]["industry"], []).append(feature)
    industries = []
    for industry, features in by_industry.items():
        layout = features[0]["properties"]["layout"]  # 一区N园: the industry's parks read as one cluster
        name = f"园区 · {industry or '其他'}" + (f"（{layout}）" if layout else "")
        group = folium.FeatureGroup(name=name).add_to(fmap)
        _GeoJsonBlob("parks", features, links, fmap.sanming_slots).add_to(group)
        industries.append((industry or "其他", features[0]["properties"]["color"]))

    by_stage: dict[str, list[dict]] = {}
    for feature in _prepared(projects["features"], gcj02=gcj02):
        by_stage.setdefault(feature["properties"]["stage"], []).append(feature)
    for stage in STAGE_COLORS:
        if stage.value in by_stage:
            group = folium.FeatureGroup(name=f"项目 · {stage.label}（{len(by_stage[stage.value])}）").add_to(fmap)
            _GeoJsonBlob("projects", by_stage[stage.value], links, fmap.sanming_slots).add_to(group)

    _Legend(industries).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


def render_page(fmap: folium.Map, nonce: str = "") -> str:
    """The map as an HTML document that loads Leaflet from the app (/vendor/...); with ``nonce``, every
    inline <script> carries it, as the page's Content-Security-Policy demands."""
    page = fmap.get_root().render()
    if nonce:
        # Before the data goes in: only folium's own markup is tagged (the JSON holds no "<" anyway).
        page = _INLINE_SCRIPT.sub(f'<script nonce="{nonce}"', page)
    # One pass: JSON put into a slot is never scanned again, so no text in it can name another slot.
    return _DATA_SLOT.sub(lambda match: fmap.sanming_slots[match.group(0)], page)


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
