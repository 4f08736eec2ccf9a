"""Site photos from a phone (390 px): several shots at once from the camera picker, a progress bar, the gallery after."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.harness import STEP_MS
from tests.projects.attachments import files

pytestmark = pytest.mark.slow
expect.set_options(timeout=STEP_MS)


def test_county_official_uploads_site_photos_from_a_phone(journey, site):
    page = journey.open(phone=True)
    path = f"/projects/{site.county_project}"
    journey.log_in(page, "sanyuan_wang", path)
    form = page.locator("form.attachment-upload")
    camera = form.locator("input[name=camera]")
    expect(camera).to_have_attribute("accept", "image/*")
    expect(camera).to_have_attribute("capture", "environment")
    assert camera.evaluate("input => input.multiple"), "the camera picker must take several photos at once"
    form.locator("select[name=target]").select_option(label="节点：浏览器测试节点")
    camera.set_input_files([
        {"name": f"IMG_000{n}.jpg", "mimeType": "image/jpeg",
         "buffer": files.photo(size=(800, 600), noise=True, gps=(26.2751, 117.6410), taken="2026:11:30 09:15:00")}
        for n in (1, 2)])
    expect(form.locator(".attachment-chosen")).to_contain_text("已选择 2 个")
    # Usable at 390 px: nothing wider than the screen, the buttons big enough for a thumb.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    box = form.get_by_role("button", name="上传", exact=True).bounding_box()
    assert box and box["height"] >= 30 and box["x"] + box["width"] <= 390
    journey.shot(page, "attachments-chosen-phone")

    progress = form.locator("progress.attachment-progress")
    with page.expect_navigation():  # after the last file the page reloads to show them
        form.get_by_role("button", name="上传", exact=True).click()
        expect(progress).to_be_visible()
    gallery = page.locator(".attachment-gallery img")
    expect(gallery).to_have_count(2)
    for image in gallery.all():
        image.scroll_into_view_if_needed()
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0, "a thumbnail did not load"
    milestone = page.locator("h2:text-is('节点') + ul > li", has_text="浏览器测试节点")
    expect(milestone.locator(".item-attachments img")).to_have_count(2)
    expect(page.locator("main")).to_contain_text("上传照片")  # the timeline
    journey.shot(page, "attachments-gallery-phone")

    # A script named .jpg: refused with its reason, shown without leaving the page; nothing added.
    upload_url = journey.url(f"/projects/{site.county_project}/attachments")
    journey.expect_status(400, upload_url)
    form = page.locator("form.attachment-upload")
    form.locator("input[name=files]").set_input_files(
        [{"name": "shell.jpg", "mimeType": "image/jpeg", "buffer": files.PHP}])
    form.get_by_role("button", name="上传", exact=True).click()
    expect(form.locator(".attachment-status")).to_contain_text("“shell.jpg”：文件内容是网页或脚本代码")
    expect(form.locator("progress.attachment-progress")).to_have_js_property("value", 100)
    expect(page.locator(".attachment-gallery img")).to_have_count(2)
    journey.shot(page, "attachments-refused-phone")
    journey.assert_clean()
