"""The ledger pages: upload → dry-run preview → confirm, the batch list with revert, and the export."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core import logs
from core.auth.permissions import admin_required
from core.auth.queries import resolve_county
from core.spreadsheets import MAX_FILE_BYTES, ExcelUnreadable
from core.transaction import FLASH, transaction
from projects.views import editors_only

from . import batches, export, importer, sample, staging
from .excel import export_ledger
from .export import XLSX

bp = Blueprint("ledgers", __name__, url_prefix="/ledgers")
SAMPLE_COUNTY = "350404"  # 三元区, the city's central district


def init_app(app) -> None:
    app.register_blueprint(bp)


@bp.route("/import", methods=["GET", "POST"])
@editors_only
def upload():
    """Upload a ledger and show its dry run: rows to create or update, and every problem."""
    if request.method == "GET":
        return render_template("ledgers/import.html")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择要导入的台账文件（.xlsx、.xls 或 .csv）。", "danger")
        return render_template("ledgers/import.html"), 400
    data = upload.stream.read(MAX_FILE_BYTES + 1)
    filename = staging.display_name(upload.filename)
    strict = request.form.get("strict") == "1"
    with transaction(errors_to=FLASH, commit=False) as tx:  # a dry run: nothing of it stays
        if len(data) > MAX_FILE_BYTES:
            raise ExcelUnreadable(f"文件过大，上限为 {MAX_FILE_BYTES // 1024 // 1024} MB。")
        outcome = importer.import_ledger(data, by=current_user, filename=filename, dry_run=True, strict=strict)
    if isinstance(tx.error, importer.SheetRefused):
        outcome = tx.error.outcome
    elif not tx.ok:
        return render_template("ledgers/import.html"), 400
    digest = staging.stage_upload(data, current_user.id) if outcome.ok else None
    logs.event("ledger_previewed", "ok" if outcome.ok else "refused", filename=filename,
               create=outcome.count("create"), update=outcome.count("update"), problems=len(outcome.report.problems))
    return render_template("ledgers/import.html", outcome=outcome, filename=filename, digest=digest, strict=strict)


@bp.post("/import/confirm")
@editors_only
def confirm():
    """Import the previewed ledger in one transaction as one batch."""
    digest = request.form.get("sha256", "")
    filename = staging.display_name(request.form.get("filename", ""))
    if not staging.SHA_RE.fullmatch(digest):
        abort(400)
    data = staging.read_staged(current_user.id, digest)
    if data is None:
        flash("预览已过期或文件不存在，请重新上传。", "warning")
        return render_template("ledgers/import.html"), 400
    strict = request.form.get("strict") == "1"
    with transaction(errors_to=FLASH) as tx:
        outcome = importer.import_ledger(data, by=current_user, filename=filename, strict=strict)
    if isinstance(tx.error, importer.SheetRefused):  # the database changed since the preview
        return render_template("ledgers/import.html", outcome=tx.error.outcome, filename=filename, digest=None,
                               strict=strict)
    if not tx.ok:
        return render_template("ledgers/import.html"), 400
    logs.event("ledger_imported", filename=filename, batch=outcome.batch.id, rows=outcome.batch.rows_total,
               created=outcome.batch.created_count, updated=outcome.batch.updated_count)
    staging.discard(current_user.id, digest)
    flash(f"已导入台账（批次 #{outcome.batch.id}）：新建 {outcome.batch.created_count} 个项目，"
          f"更新 {outcome.batch.updated_count} 个。", "success")
    return redirect(url_for("ledgers.batches"))


@bp.get("/batches", endpoint="batches")
@editors_only
def batches_page():
    """List import batches (admins may revert them)."""
    return render_template("ledgers/batches.html", batches=batches.batches_for(current_user, limit=200))


@bp.post("/batches/<int:batch_id>/revert")
@admin_required
def revert(batch_id: int):
    """Undo an import batch: delete what it created, restore what it changed."""
    batch = batches.batch_or_404(batch_id)
    with transaction(errors_to=FLASH) as tx:
        result = batches.revert_batch(batch, by=current_user)
    if tx.ok:
        logs.event("ledger_reverted", batch=batch_id, deleted=result["deleted"], restored=result["restored"])
        flash(f"已撤销批次 #{batch_id}：删除 {result['deleted']} 个新建项目，恢复 {result['restored']} 个项目。", "success")
    return redirect(url_for("ledgers.batches"))


@bp.get("/sample.xlsx", endpoint="sample")
@editors_only
def sample_file():
    """Download a sample ledger to start from: the user's county (三元区 for city staff), every stage."""
    county = resolve_county(current_user.county_code or SAMPLE_COUNTY)
    body = export_ledger(sample.sample_rows(county), title=f"三明市{county.name}招商引资项目推进台账（示例）")
    return Response(body, mimetype=XLSX, headers={"Content-Disposition": "attachment; filename=ledger-sample.xlsx"})


@bp.get("/export", endpoint="export")
@login_required
def export_file():
    """Download the ledger (.xlsx) of the projects the user may see; a county official gets their county."""
    code = export.export_county(current_user, resolve_county(request.args.get("county")))
    body, name = export.ledger_workbook(code, user=current_user)
    return Response(body, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={name}"})
