"""Uploaded ledgers awaiting confirmation, kept under the uploader and the file's hash, forgotten after a day."""
from __future__ import annotations

import os
import re
import time

from flask import current_app

from core.spreadsheets import KINDS, kind_of

from .importer import sha256

SHA_RE = re.compile(r"[0-9a-f]{64}")
STAGED_MAX_AGE_S = 24 * 3600


def _import_dir() -> str:
    path = current_app.config.get("LEDGER_IMPORT_DIR") or os.path.join(current_app.instance_path, "imports")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def staged_path(user_id: int, digest: str, extension: str) -> str:
    """The server-side copy of an upload awaiting confirmation: named by uploader and hash, never by the client,
    with the extension of its format (judged by content)."""
    return os.path.join(_import_dir(), f"{int(user_id)}-{digest}{extension}")


def _staged(user_id: int, digest: str) -> str | None:
    paths = (staged_path(user_id, digest, extension) for extension in KINDS.values())
    return next((path for path in paths if os.path.exists(path)), None)


def display_name(client_name: str) -> str:
    """The name the browser gave a file, for the batch list and the logs only: its last part, whichever
    separator the client's system uses (never a path here: staged files are named by staged_path)."""
    return os.path.basename(client_name.replace("\\", "/"))[:255]


def stage_upload(data: bytes, user_id: int) -> str:
    digest = sha256(data)
    now = time.time()
    for name in os.listdir(_import_dir()):  # forget previews nobody confirmed
        full = os.path.join(_import_dir(), name)
        if name.endswith(tuple(KINDS.values())) and now - os.path.getmtime(full) > STAGED_MAX_AGE_S:
            os.remove(full)
    with open(staged_path(user_id, digest, KINDS[kind_of(data)]), "wb") as handle:
        handle.write(data)
    return digest


def read_staged(user_id: int, digest: str) -> bytes | None:
    """The staged upload, or None when it expired or never was."""
    path = _staged(user_id, digest)
    if path is None:
        return None
    with open(path, "rb") as handle:
        return handle.read()


def discard(user_id: int, digest: str) -> None:
    path = _staged(user_id, digest)
    if path is not None:
        os.remove(path)
