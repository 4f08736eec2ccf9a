"""The guide's pictures: each page the guide shows, as the role it describes, on the demo data at desktop and phone
width, checked for the element the guide points at; `make docs` writes them into the guide's image folder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.guide.screens import SCREENS, WIDTHS
from tests.browser.conftest import USERS
from tests.harness import ROOT, STEP_MS

pytestmark = pytest.mark.slow
expect.set_options(timeout=STEP_MS)

JPEG_QUALITY = 70  # the 20 pictures stay near 1.5 MB in the repository
MAP_DRAWN = """() => {
  const element = document.querySelector('.folium-map');
  const map = element && window[element.id];
  return Boolean(map && map._loaded);
}"""


@pytest.fixture(scope="module")
def image_folder(screenshot_dir) -> Path:
    """static/help when `make docs` asks for it (GUIDE_IMAGES), else beside the journeys' screenshots."""
    folder = Path(os.environ["GUIDE_IMAGES"]) if os.environ.get("GUIDE_IMAGES") else screenshot_dir / "help"
    folder = folder if folder.is_absolute() else ROOT / folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("role", sorted({screen.role for screen in SCREENS.values()}))
def test_the_guide_pictures_show_what_the_guide_points_at(journey, image_folder, role, width):
    username = next(name for name, (user_role, _, _) in USERS.items() if user_role == role)
    page = journey.open(phone=width == "phone")
    journey.log_in(page, username)
    for screen in (s for s in SCREENS.values() if s.role == role):
        page.goto(journey.url(screen.path.format(project=journey.site.county_project)))
        expect(page.locator(screen.selector).first).to_be_attached()
        page.locator(screen.selector).first.scroll_into_view_if_needed()  # the picture shows what the text describes
        if screen.name == "map":
            page.locator("#map-frame").element_handle().content_frame().wait_for_function(MAP_DRAWN)
        page.screenshot(path=image_folder / f"{screen.name}-{width}.jpg", type="jpeg", quality=JPEG_QUALITY)
    journey.assert_clean()
