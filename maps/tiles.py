"""The map's basemaps: each one's tile layers and the origins they load from (for the Content-Security-Policy)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

_ORIGIN_RE = re.compile(r"(https?://)?[A-Za-z0-9.-]+(:[0-9]{1,5})?")

TIANDITU_URL = "https://t{s}.tianditu.gov.cn/DataServer?T=%s_w&x={x}&y={y}&l={z}&tk=%s"
TILE_LAYERS = {
    "gaode": ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
              "高德地图", "1234"),
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "&copy; OpenStreetMap contributors", "abc"),
}


def tile_layers(tiles: str, tiles_url: str, token: str) -> list[tuple[str, str, str, str]]:
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


def tile_origins(tiles: str, tiles_url: str = "", token: str = "") -> list[str]:
    """The origins the basemap's tiles load from, for the Content-Security-Policy's img-src.

    A tile URL on the app's own host (``/tiles/...``) needs none; one that does not look like a plain
    origin is left out rather than let into the header."""
    origins = []
    for url, _attr, _name, subdomains in tile_layers(tiles, tiles_url, token):
        for subdomain in subdomains:
            parts = urlsplit(url.replace("{s}", subdomain))
            origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme else parts.netloc
            if parts.netloc and _ORIGIN_RE.fullmatch(origin):
                origins.append(origin)
    return list(dict.fromkeys(origins))
