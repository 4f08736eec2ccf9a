"""Ledger views room: upload → dry-run preview → confirm, the batch list with revert, and the export."""
from __future__ import annotations

import os
import re
import time

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user, login_required

from core import logs
from core.auth.models import Role
from core.auth.permissions import admin_required
from core.auth.queries import resolve_county
from core.db import db
from core.excel import MAX_FILE_BYTES, ExcelUnreadable

from .. import ledgers
from ..excel import export_ledger
from ..models import ImportBatch
from .common import editors_only

bp = Blueprint("ledgers", __name__, url_prefix="/ledgers")
SHA_RE = re.compile(r"[0-9a-f]{64}")
STAGED_MAX_AGE_S = 24 * 3600


def _import_dir() -> str:
    path = current_app.config.get("LEDGER_IMPORT_DIR") or os.path.join(current_app.instance_path, "imports")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def staged_path(user_id: int, digest: str) -> str:
    """The server-side copy of an upload awaiting confirmation: named by uploader and hash, never by the client."""
    return os.path.join(_import_dir(), f"{int(user_id)}-{digest}.xlsx")


def display_name(client_name: str) -> str:
    """The name the browser gave a file, for the batch list and the logs only: its last part, whichever
    separator the client's system uses (never a path here: staged files are named by staged_path)."""
    return os.path.basename(client_name.replace("\\", "/"))[:255]


def stage_upload(data: bytes, user_id: int) -> str:
    digest = ledgers.sha256(data)
    now = time.time()
    for name in os.listdir(_import_dir()):  # forget previews nobody confirmed
        full = os.path.join(_import_dir(), name)
        if name.endswith(".xlsx") and now - os.path.getmtime(full) > STAGED_MAX_AGE_S:
            os.remove(full)
    with open(staged_path(user_id, digest), "wb") as handle:
        handle.write(data)
    return digest


@bp.route("/import", methods=["GET", "POST"])
@editors_only
def upload():
    """Upload a ledger and show its dry run: rows to create or update, and every problem."""
    if request.method == "GET":
        return render_template("ledgers/import.html")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择要导入的台账文件（.xlsx）。", "danger")
        return render_template("ledgers/import.html"), 400
    data = upload.stream.read(MAX_FILE_BYTES + 1)
    filename = display_name(upload.filename)
    try:
        if len(data) > MAX_FILE_BYTES:
            raise ExcelUnreadable(f"文件过大，上限为 {MAX_FILE_BYTES // 1024 // 1024} MB。")
        outcome = ledgers.import_ledger(data, by=current_user, filename=filename, dry_run=True)
    except (ExcelUnreadable, ledgers.LedgerRefused) as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return render_template("ledgers/import.html"), 400
    db.session.rollback()  # a dry run: nothing of it stays
    digest = stage_upload(data, current_user.id) if outcome.ok else None
    logs.event("ledger_previewed", "ok" if outcome.ok else "refused", filename=filename,
               create=outcome.count("create"), update=outcome.count("update"), problems=len(outcome.report.problems))
    return render_template("ledgers/import.html", outcome=outcome, filename=filename, digest=digest)


@bp.post("/import/confirm")
@editors_only
def confirm():
    """Import the previewed ledger in one transaction as one batch."""
    digest = request.form.get("sha256", "")
    filename = display_name(request.form.get("filename", ""))
    if not SHA_RE.fullmatch(digest):
        abort(400)
    path = staged_path(current_user.id, digest)
    if not os.path.exists(path):
        flash("预览已过期或文件不存在，请重新上传。", "warning")
        return render_template("ledgers/import.html"), 400
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        outcome = ledgers.import_ledger(data, by=current_user, filename=filename)
    except (ExcelUnreadable, ledgers.LedgerRefused) as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return render_template("ledgers/import.html"), 400
    if not outcome.ok:  # the database changed since the preview
        db.session.rollback()
        return render_template("ledgers/import.html", outcome=outcome, filename=filename, digest=None)
    db.session.commit()
    logs.event("ledger_imported", filename=filename, batch=outcome.batch.id, rows=outcome.batch.rows_total,
               created=outcome.batch.created_count, updated=outcome.batch.updated_count)
    os.remove(path)
    flash(f"已导入台账（批次 #{outcome.batch.id}）：新建 {outcome.batch.created_count} 个项目，"
          f"更新 {outcome.batch.updated_count} 个。", "success")
    return redirect(url_for("ledgers.batches"))


@bp.get("/batches")
@editors_only
def batches():
    """List import batches (admins may revert them)."""
    rows = db.session.scalars(ledgers.batches_for(current_user).limit(200)).all()
    return render_template("ledgers/batches.html", batches=rows)


@bp.post("/batches/<int:batch_id>/revert")
@admin_required
def revert(batch_id: int):
    """Undo an import batch: delete what it created, restore what it changed."""
    batch = db.get_or_404(ImportBatch, batch_id)
    try:
        result = ledgers.revert_batch(batch, by=current_user)
    except ledgers.RevertRefused as exc:
        db.session.rollback()
        flash(str(exc), "warning")
    else:
        db.session.commit()
        logs.event("ledger_reverted", batch=batch_id, deleted=result["deleted"], restored=result["restored"])
        flash(f"已撤销批次 #{batch_id}：删除 {result['deleted']} 个新建项目，恢复 {result['restored']} 个项目。", "success")
    return redirect(url_for("ledgers.batches"))


@bp.get("/export")
@login_required
def export():
    """Download the ledger (.xlsx) of the projects the user may see; a county official gets their county."""
    county = request.args.get("county") or None
    code = None
    if current_user.role is Role.COUNTY:
        code = current_user.county_code
    elif county:
        found = resolve_county(county)
        code = found.code if found is not None else None
    rows = ledgers.export_rows(code, user=current_user)
    body = export_ledger(rows, title=ledgers.export_title(code))
    logs.event("ledger_exported", scope=code or "all", rows=len(rows))
    name = f"ledger-{code or 'all'}.xlsx"
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
