"""Files for the attachment tests, each made here: photos with EXIF, documents of every accepted kind, hostile files."""
from __future__ import annotations

import io
import os
import zipfile

import openpyxl
import xlwt
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

ORIENTATION, EXIF_IFD, GPS_IFD, DATETIME_ORIGINAL = 0x0112, 0x8769, 0x8825, 36867


def dms(value: float) -> tuple:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 2)
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(int(seconds * 100), 100)


def photo(fmt: str = "JPEG", *, size=(64, 48), gps: tuple[float, float] | None = None, taken: str | None = None,
          orientation: int | None = None, noise: bool = False, color=(200, 80, 40)) -> bytes:
    """A photo as a phone writes it: the EXIF taken-at time, GPS position and orientation when given."""
    image = (Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise
             else Image.new("RGB", size, color))
    exif = Image.Exif()
    if orientation:
        exif[ORIENTATION] = orientation
    if taken:
        exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = taken
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: dms(gps[0]), 3: "E", 4: dms(gps[1])})
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes(), **({"quality": 95} if fmt == "JPEG" else {}))
    return out.getvalue()


def pdf(pad: int = 0) -> bytes:
    body = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + b"%" + b"x" * pad + b"\n"
    return body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                                                'package/2006/content-types"/>')
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def pptx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ppt/presentation.xml", "<p:presentation/>")
    return out.getvalue()


def xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active["A1"] = "施工许可证"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xls() -> bytes:
    book = xlwt.Workbook()
    book.add_sheet("台账").write(0, 0, "项目名称")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def doc() -> bytes:
    """A Word 97-2003 container: xlwt's compound file with its one stream renamed WordDocument (its directory
    entry's name field and length), which is all the judge looks at."""
    data = bytearray(xls())
    at = data.index("Workbook".encode("utf-16-le") + b"\0\0")
    name = "WordDocument".encode("utf-16-le") + b"\0\0"
    data[at:at + 64] = name.ljust(64, b"\0")
    data[at + 64:at + 66] = len(name).to_bytes(2, "little")
    return bytes(data)


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return out.getvalue()


PHP = b"<?php system($_GET['cmd']); ?>"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(1)</script></svg>')


def polyglot() -> bytes:
    """A real JPEG with a zip archive glued on: an image to Pillow, an archive to unzip."""
    return photo() + plain_zip()


def bomb_png() -> bytes:
    """A tiny file that decodes to 100 million pixels, past Pillow's limit."""
    out = io.BytesIO()
    Image.new("1", (10000, 10000)).save(out, "PNG")
    return out.getvalue()


def truncated_jpeg() -> bytes:
    whole = photo(size=(256, 256), noise=True)
    return whole[: len(whole) // 2]
