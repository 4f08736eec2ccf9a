"""Judging an upload by its content (magic bytes and a real parse), reading a photo's EXIF, and its clean copies."""
from __future__ import annotations

import datetime as dt
import io
import warnings
import zipfile
from dataclasses import dataclass
from decimal import Decimal

from PIL import Image, ImageOps, UnidentifiedImageError
from xlrd.compdoc import CompDoc, CompDocError

from core import clock
from core.errors import InvalidInput

from .models import FileKind

MB = 1024 * 1024
PHOTO_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp"}
MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "pdf": "application/pdf",
              "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              "doc": "application/msword", "xls": "application/vnd.ms-excel"}
FORMAT_LABELS = {"jpeg": "JPEG 照片", "png": "PNG 图片", "webp": "WebP 图片", "pdf": "PDF 文件",
                 "docx": "Word 文档", "xlsx": "Excel 工作簿", "doc": "Word 97-2003 文档",
                 "xls": "Excel 97-2003 工作簿"}
ACCEPTED = "JPEG、PNG、WebP 照片，PDF，Word（.docx/.doc）或 Excel（.xlsx/.xls）文件"
ZIP_MAGIC, OLE_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_UNPACKED_BYTES = 300 * MB  # an Office zip unpacking to more is a zip bomb, whatever it claims to be
DISPLAY_MAX_SIDE = 4096  # the served copy of a photo; the original is kept but never served
THUMB_SIDE = 320
# EXIF tags (Pillow's numbers)
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, DATETIME_DIGITIZED, DATETIME, OFFSET_ORIGINAL = 36867, 36868, 306, 36881
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON = 1, 2, 3, 4


class BadFile(InvalidInput):
    """An upload refused for what it contains; the message names the file and why."""

    def __init__(self, filename: str, reason: str):
        super().__init__(errors={"files": f"“{filename}”：{reason}"})


@dataclass
class Judged:
    """What a file really is, and for a photo what its EXIF says."""

    kind: FileKind
    file_format: str
    width: int | None = None
    height: int | None = None
    taken_at: dt.datetime | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self.file_format]


def limits_text(limits: dict[FileKind, int]) -> str:
    return f"照片不超过 {limits[FileKind.PHOTO] // MB} MB，文件不超过 {limits[FileKind.DOCUMENT] // MB} MB"


def judge(data: bytes, filename: str, limits: dict[FileKind, int]) -> Judged:
    """What ``data`` is, by its bytes alone; anything else raises BadFile with a precise Chinese reason."""
    if not data:
        raise BadFile(filename, "文件是空的（0 字节），请重新选择。")
    if len(data) > limits[FileKind.DOCUMENT]:
        raise BadFile(filename, f"文件过大（{len(data) / MB:.1f} MB），{limits_text(limits)}。")
    head = data[:64].lstrip()
    if data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        if len(data) > limits[FileKind.PHOTO]:  # before decoding it
            raise BadFile(filename, f"照片过大（{len(data) / MB:.1f} MB），照片不能超过 {limits[FileKind.PHOTO] // MB} MB。")
        return _judge_photo(data, filename)
    if data.startswith(b"%PDF-"):
        return _judge_pdf(data, filename)
    if data.startswith(ZIP_MAGIC):
        return Judged(FileKind.DOCUMENT, _office_zip_format(data, filename))
    if data.startswith(OLE_MAGIC):
        return Judged(FileKind.DOCUMENT, _ole_format(data, filename))
    lowered = head.lower()
    if lowered.startswith((b"<svg", b"<?xml")) or b"<svg" in data[:1024].lower():
        raise BadFile(filename, "SVG 矢量图可能含有脚本，不予接受；请上传 JPEG、PNG 或 WebP 照片。")
    if lowered.startswith((b"<?php", b"<!doctype", b"<html", b"<script", b"<")):
        raise BadFile(filename, f"文件内容是网页或脚本代码（HTML/PHP），不是照片或文档，已拒绝。只接受{ACCEPTED}。")
    raise BadFile(filename, f"无法识别的文件格式（按文件内容判断，与文件名无关）。只接受{ACCEPTED}。")


def _not_polyglot(data: bytes, filename: str, what: str) -> None:
    # A file that is also a zip (a JPEG with an archive glued on) can be served as one thing and opened as another.
    if zipfile.is_zipfile(io.BytesIO(data)):
        raise BadFile(filename, f"文件既是{what}又是压缩包（拼接的多格式文件），已按不安全文件拒绝。")


def _judge_photo(data: bytes, filename: str) -> Judged:
    _not_polyglot(data, filename, "图片")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                file_format = PHOTO_FORMATS.get(image.format or "")
                if file_format is None:
                    raise BadFile(filename, f"图片格式 {image.format} 不受支持，只接受 JPEG、PNG、WebP。")
                width, height = image.size
                if width * height > (Image.MAX_IMAGE_PIXELS or 0):
                    raise _bomb(filename, width, height)
                image.load()  # decodes every pixel: a truncated or corrupt file fails here
                exif = image.getexif()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb(filename, 0, 0) from None
    except BadFile:
        raise
    except UnidentifiedImageError:
        raise BadFile(filename, "文件开头像图片，但无法解析为图片，可能已损坏。") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        truncated = "truncated" in str(exc) or isinstance(exc, EOFError)
        raise BadFile(filename, "图片不完整（文件被截断），请重新拍摄或重新上传完整的文件。" if truncated
                      else "图片已损坏，无法解析，请重新上传。") from None
    taken_at = _taken_at(exif)
    latitude, longitude = _gps(exif)
    return Judged(FileKind.PHOTO, file_format, width, height, taken_at, latitude, longitude)


def _bomb(filename: str, width: int, height: int) -> BadFile:
    size = f"（{width}×{height}）" if width else ""
    return BadFile(filename, f"图片像素过多{size}，超过 {(Image.MAX_IMAGE_PIXELS or 0) // 10000} 万像素的上限，"
                             "疑似“解压炸弹”文件，已拒绝。")


def _judge_pdf(data: bytes, filename: str) -> Judged:
    _not_polyglot(data, filename, " PDF ")
    if b"%%EOF" not in data[-2048:]:
        raise BadFile(filename, "PDF 文件不完整（缺少文件结束标记 %%EOF），可能上传中断或文件已损坏。")
    return Judged(FileKind.DOCUMENT, "pdf")


def _office_zip_format(data: bytes, filename: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise BadFile(filename, "文件已损坏，无法作为 Word/Excel 文档（zip 容器）打开。") from None
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise BadFile(filename, "文件解压后过大，疑似压缩炸弹，已拒绝。")
    names = {m.filename for m in members}
    if "[Content_Types].xml" in names:
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        raise BadFile(filename, "文件是 Office 文档，但不是 Word（.docx）或 Excel（.xlsx），例如 PowerPoint，不予接受。")
    raise BadFile(filename, f"文件是一个普通压缩包（.zip），不是 Word 或 Excel 文档。只接受{ACCEPTED}。")


def _ole_format(data: bytes, filename: str) -> str:
    try:
        document = CompDoc(data, logfile=io.StringIO())
        if document.locate_named_stream("WordDocument")[0] is not None:
            return "doc"
        if any(document.locate_named_stream(name)[0] is not None for name in ("Workbook", "Book")):
            return "xls"
    except (CompDocError, IndexError, ValueError, AssertionError, MemoryError, OverflowError):
        raise BadFile(filename, "文件已损坏，无法作为 Word/Excel 97-2003 文档（OLE 容器）打开。") from None
    if document.locate_named_stream("EncryptedPackage")[0] is not None:
        raise BadFile(filename, "文件设有打开密码（已加密），请取消密码后再上传。")
    raise BadFile(filename, "文件是 Office 97-2003 格式，但不是 Word（.doc）或 Excel（.xls），不予接受。")


def _taken_at(exif: Image.Exif) -> dt.datetime | None:
    """The moment the photo was taken, in UTC; a camera without a zone offset is taken to keep China time."""
    ifd = exif.get_ifd(EXIF_IFD)
    text = ifd.get(DATETIME_ORIGINAL) or ifd.get(DATETIME_DIGITIZED) or exif.get(DATETIME)
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.strptime(text.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    zone = None
    offset = ifd.get(OFFSET_ORIGINAL)
    if isinstance(offset, str) and len(offset) >= 6 and offset[0] in "+-":
        try:
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            zone = dt.timezone((1 if offset[0] == "+" else -1) * dt.timedelta(hours=hours, minutes=minutes))
        except ValueError:
            pass
    return clock.wall_clock_to_utc(moment, zone)


def _gps(exif: Image.Exif) -> tuple[Decimal | None, Decimal | None]:
    gps = exif.get_ifd(GPS_IFD)
    try:
        lat = _degrees(gps[GPS_LAT]) * (-1 if str(gps.get(GPS_LAT_REF, "N")).upper().startswith("S") else 1)
        lon = _degrees(gps[GPS_LON]) * (-1 if str(gps.get(GPS_LON_REF, "E")).upper().startswith("W") else 1)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None, None
    return Decimal(f"{lat:.6f}"), Decimal(f"{lon:.6f}")


def _degrees(value) -> float:
    degrees, minutes, seconds = (float(part) for part in value)
    return degrees + minutes / 60 + seconds / 3600


def clean_copies(data: bytes, file_format: str) -> tuple[bytes, bytes]:
    """The photo as served (EXIF orientation applied, then re-encoded with no metadata at all) and its thumbnail."""
    with Image.open(io.BytesIO(data)) as original:
        image = ImageOps.exif_transpose(original)
    image.info = {}  # nothing of the original's metadata (EXIF, XMP, ICC text chunks) may travel with the pixels
    image.thumbnail((DISPLAY_MAX_SIDE, DISPLAY_MAX_SIDE))
    display = _encode(image, file_format)
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return display, _encode(thumb, "jpeg")


def _encode(image: Image.Image, file_format: str) -> bytes:
    out = io.BytesIO()
    if file_format == "jpeg":
        if image.mode not in ("RGB", "L"):
            image = _flatten(image)
        image.save(out, "JPEG", quality=85, optimize=True)
    elif file_format == "png":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=85)
    return out.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """A transparent or palette image on white, as JPEG has no alpha."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background
