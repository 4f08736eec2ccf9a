"""The attachment routes: upload (form or one file per request from the phone page), serve, thumbnail, remove."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.exceptions import RequestEntityTooLarge

from core import security
from core.errors import InvalidInput, NotFound
from core.transaction import FLASH, transaction
from projects import queries as project_queries
from projects.views import add_item_extra, add_project_panel, editors_only, render_detail

from . import content, queries, services, storage
from .forms import PROJECT_TARGET, RemoveForm, UploadForm
from .models import FileKind

bp = Blueprint("attachments", __name__)
REQUEST_OVERHEAD = 1024 * 1024  # the form's other fields and the multipart framing around one largest file
EXTENSIONS = {"jpeg": "jpg"}


def init_app(app) -> None:
    app.register_blueprint(bp)
    add_project_panel(app, _project_panel)
    add_item_extra(app, _item_files)
    for endpoint in ("attachments.serve", "attachments.thumbnail"):
        security.add_revalidated_endpoint(app, endpoint)
    app.add_template_global(services.may_remove, "may_remove_attachment")


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _target(project, value: str | None) -> services.Target:
    """The upload's target, which must be one of this project's own items (anything else is 404)."""
    if not value or value == PROJECT_TARGET:
        return services.Target()
    kind, _, item_id = value.partition(":")
    items = {"milestone": project.milestones, "approval_item": project.approvals,
             "blocker": getattr(project, "blockers", [])}.get(kind, [])
    found = next((item for item in items if str(item.id) == item_id), None)
    if found is None:
        raise NotFound()
    return services.Target(**{kind: found})


def _read_within_limit() -> str | None:
    """Parse the request under the upload's own limit (a document's, plus the form around it): a message when the
    request is larger, else None."""
    limit = current_app.config["ATTACHMENT_DOCUMENT_MAX_MB"] * content.MB
    request.max_content_length = limit + REQUEST_OVERHEAD
    try:
        request.files  # noqa: B018  (parses the body now, under the limit just set)
    except RequestEntityTooLarge:
        return (f"上传内容过大：一次上传的文件合计不能超过 {limit // content.MB} MB"
                f"（照片每张不超过 {current_app.config['ATTACHMENT_PHOTO_MAX_MB']} MB），请分几次上传。未保存任何文件。")
    return None


def _received_files() -> list[tuple[str | None, bytes]]:
    parts = request.files.getlist("camera") + request.files.getlist("files")
    return [(part.filename, part.read()) for part in parts if part.filename or part.content_length]


@bp.post("/projects/<int:project_id>/attachments")
@editors_only
def upload(project_id: int):
    """Add photos or documents to a project or one of its items: all of them, or none with the reasons."""
    project = project_queries.get_project_or_404(project_id, current_user, for_edit=True)
    too_large = _read_within_limit()
    form = UploadForm(formdata=None) if too_large else UploadForm()
    form.set_targets(project)
    written, committed = [], False
    try:
        with transaction(errors_to=form) as tx:
            if too_large:
                raise InvalidInput(errors={"files": too_large})
            if not form.validate():
                raise InvalidInput(errors={name: errors[0] for name, errors in form.errors.items()})
            rows, written = services.upload(project, _target(project, form.target.data), _received_files(),
                                            by=current_user)
        committed = tx.ok
    finally:
        if not committed:  # refused, or the commit itself failed: no file may outlive its row
            storage.discard(written)
    if _wants_json():
        if not tx.ok:
            return jsonify(ok=False, errors=[message for field in form for message in field.errors]), 400
        return jsonify(ok=True, message=f"已上传 {len(rows)} 个文件。", ids=[row.id for row in rows])
    if not tx.ok:
        return render_detail(project_queries.project_detail(project_id, current_user), status=400, upload_form=form)
    flash(f"已上传 {len(rows)} 个文件：{'、'.join(row.filename for row in rows)}。", "success")
    return redirect(url_for("projects.detail", project_id=project_id, _anchor="attachments"))


@bp.post("/projects/<int:project_id>/attachments/<int:attachment_id>/remove")
@editors_only
def remove(project_id: int, attachment_id: int):
    """Take a file off the project, with a reason (admins; the uploader within 24 hours)."""
    project = project_queries.get_project_or_404(project_id, current_user)
    attachment = queries.project_attachment_or_404(project, attachment_id)
    form = RemoveForm()
    with transaction(errors_to=FLASH) as tx:
        if not form.validate():
            raise InvalidInput(errors={"reason": form.reason.errors[0]})
        services.remove(attachment, form.reason.data, by=current_user)
    if not tx.ok:
        return render_detail(project_queries.project_detail(project_id, current_user), status=400)
    flash(f"已删除“{attachment.filename}”。", "success")
    return redirect(url_for("projects.detail", project_id=project_id, _anchor="attachments"))


@bp.get("/attachments/<int:attachment_id>")
@login_required
def serve(attachment_id: int):
    """A photo inline (the re-encoded copy, no metadata) or a document as a download, to users who may see it."""
    attachment = queries.attachment_or_404(attachment_id, current_user)
    stem = attachment.filename.rsplit(".", 1)[0] or "附件"
    name = f"{stem}.{EXTENSIONS.get(attachment.file_format, attachment.file_format)}"
    if attachment.kind is FileKind.PHOTO:
        return _send(attachment.sha256, storage.DISPLAY, content.MIME_TYPES[attachment.file_format], name, False)
    return _send(attachment.sha256, storage.ORIGINAL, content.MIME_TYPES[attachment.file_format], name, True)


@bp.get("/attachments/<int:attachment_id>/thumb")
@login_required
def thumbnail(attachment_id: int):
    """A photo's thumbnail (JPEG, made once at upload)."""
    attachment = queries.attachment_or_404(attachment_id, current_user)
    if attachment.kind is not FileKind.PHOTO:
        raise NotFound()
    return _send(attachment.sha256, storage.THUMB, "image/jpeg", f"thumb-{attachment.id}.jpg", False)


def _send(sha256: str, variant: str, mimetype: str, name: str, download: bool):
    path = storage.path_of(sha256, variant)
    if not path.is_file():
        current_app.logger.error("attachment file missing: %s", path)
        raise NotFound()
    response = send_file(path, mimetype=mimetype, as_attachment=download, download_name=name, conditional=True,
                         etag=f"{sha256}-{variant}", max_age=0)
    return response  # core.security adds nosniff and the policy that lets nothing run


def _project_panel(project, can_edit: bool, forms: dict) -> str:
    """The project page's gallery by day, its documents, each item's own files, and the upload form."""
    attachments = _shown(project)
    context = {"project": project, "can_edit": can_edit, "attachments": attachments,
               "gallery": queries.gallery(attachments), "by_target": queries.by_target(attachments),
               "documents": [a for a in attachments if a.kind is FileKind.DOCUMENT],
               "marks": {a.id: queries.marks(a, project) for a in attachments if a.kind is FileKind.PHOTO},
               "remove_form": RemoveForm(formdata=None),
               "limits": content.limits_text(services.limits()), "labels": content.FORMAT_LABELS}
    if can_edit:
        form = forms.get("upload_form")
        if form is None:
            form = UploadForm(formdata=None)
            form.set_targets(project)
        context["upload_form"] = form
    return Markup(render_template("attachments/_project_panel.html", **context))


def _item_files(project, kind: str, item) -> str:
    """A milestone's or approval item's own photos and files, under it on the project page."""
    files = queries.by_target(_shown(project)).get((kind, item.id))
    return Markup(render_template("attachments/_item_files.html", files=files)) if files else Markup("")


def _shown(project) -> list:
    """The project's attachments, read once per request for the panel and every item under it."""
    cache = g.setdefault("attachments_shown", {})
    if project.id not in cache:
        cache[project.id] = queries.shown(project)
    return cache[project.id]
