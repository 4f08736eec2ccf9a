"""The files on disk: originals under the instance folder by SHA-256 (stored once), their clean copies beside them."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app

# Per stored file: the original as uploaded (never served), and for a photo the served copy and its thumbnail.
ORIGINAL, DISPLAY, THUMB = "original", "display", "thumb"


def folder() -> Path:
    return Path(current_app.config["ATTACHMENT_DIR"] or os.path.join(current_app.instance_path, "attachments"))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def path_of(sha256: str, variant: str = ORIGINAL) -> Path:
    # Only ever a hex digest the app computed makes a path; the client's file name never does.
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 digest")
    return folder() / sha256[:2] / f"{sha256}.{variant}"


def store(files: dict[str, bytes], sha256: str) -> list[Path]:
    """Write each variant not already there (atomically: a reader never sees half a file); return the paths
    written, so a failed transaction can remove exactly what it added."""
    written = []
    try:
        for variant, data in files.items():
            path = path_of(sha256, variant)
            if path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".partial")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(partial, path)
            except BaseException:
                Path(partial).unlink(missing_ok=True)
                raise
            written.append(path)
    except BaseException:
        discard(written)
        raise
    return written


def discard(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)

