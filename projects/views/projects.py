"""Projects views room: list, create, detail, edit, stage moves, approvals and milestones (thin)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from core import clock
from core.auth.models import Role, User
from core.auth.permissions import admin_required
from core.auth.queries import current_counties
from core.db import db
from parks.models import Industry, Park
from parks.queries import industries_with_chains

from .. import queries, services
from ..forms import (ApprovalForm, ApprovalTypeForm, BlockerCloseForm, BlockerEscalateForm, BlockerForm, ConvertForm,
                     ListFilterForm, MilestoneForm, MilestoneUpdateForm, ProjectForm, StageForm)
from ..models import ApprovalItem, ApprovalItemType, Blocker, Milestone, SigningEvent
from ..stages import Light, SignType, Stage, allowed_targets, milestone_light, next_stage
from .common import apply_errors, editors_only, require_version_field

bp = Blueprint("projects", __name__, url_prefix="/projects")


def _form_choices(form: ProjectForm) -> None:
    counties = current_counties()
    if current_user.role is Role.COUNTY:
        counties = [c for c in counties if c.code == current_user.county_code]
    parks = db.session.scalars(select(Park).order_by(Park.county_code, Park.position)).all()
    industries = industries_with_chains()
    leaders = db.session.scalars(select(User).where(User.role == Role.LEADER, User.is_enabled)
                                 .order_by(User.display_name, User.username)).all()
    events = db.session.scalars(select(SigningEvent).order_by(SigningEvent.date.desc())).all()
    form.set_choices(counties=counties, parks=parks, industries=industries, leaders=leaders, events=events)


def _force_own_county(form: ProjectForm) -> None:
    # A county official's projects are always their county's, whatever the request says.
    if current_user.role is Role.COUNTY:
        form.county_code.data = current_user.county_code


@bp.get("/")
@login_required
def index():
    """List the projects the user may see, filtered, searched, sorted and paginated."""
    form = ListFilterForm(request.args)
    _list_choices(form)
    form.validate()
    filters = queries.ListFilters(
        county=form.county.data if not form.county.errors else None,
        park=form.park.data if not form.park.errors else None,
        industry=form.industry.data if not form.industry.errors else None,
        stage=Stage(form.stage.data) if form.stage.data and not form.stage.errors else None,
        sign_type=SignType(form.sign_type.data) if form.sign_type.data and not form.sign_type.errors else None,
        year=form.year.data if not form.year.errors else None,
        major=bool(form.major.data),
        light=Light(form.light.data) if form.light.data and not form.light.errors else None,
        q=(form.q.data or "").strip()[:100],
        sort=form.sort.data if not form.sort.errors else "")
    # type=int: anything int() refuses ("abc", "²", which str.isdigit() accepts) means page 1.
    page = request.args.get("page", 1, type=int)
    result = queries.list_page(current_user, filters, page, clock.today())
    # Only the filters go into the pager's links: url_for would choke on "_scheme" or "endpoint".
    args = {k: v for k, v in request.args.items() if k in form._fields and k != "page" and v}
    return render_template("projects/index.html", form=form, result=result, args=args)


def _list_choices(form: ListFilterForm) -> None:
    counties = current_counties()
    if current_user.role is Role.COUNTY:
        counties = [c for c in counties if c.code == current_user.county_code]
    form.county.set_choices((c.code, c.name) for c in counties)
    form.park.set_choices((p.id, p.name) for p in db.session.scalars(select(Park).order_by(Park.position)))
    form.industry.set_choices((i.id, i.name) for i in db.session.scalars(select(Industry).order_by(Industry.position)))
    form.stage.set_choices(Stage.choices())
    form.sign_type.set_choices(SignType.choices())
    form.year.set_choices((y, f"{y}年") for y in queries.sign_years(current_user))
    form.light.set_choices((light.value, light.label) for light in (Light.RED, Light.YELLOW, Light.GREEN))
    form.sort.choices = [("", "默认排序")] + list(queries.SORTS.items())


@bp.route("/new", methods=["GET", "POST"])
@editors_only
def new():
    """Register a signed (or still negotiating) project."""
    form = ProjectForm(version=0)
    _form_choices(form)
    _force_own_county(form)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            stage = Stage.NEGOTIATING if request.form.get("negotiating") == "1" else Stage.SIGNED
            try:
                project = services.create_project(form.project_data(), by=current_user, stage=stage)
            except services.ProjectInvalid as exc:
                db.session.rollback()
                apply_errors(form, exc.errors)
            except services.NotAllowed as exc:
                db.session.rollback()
                flash(str(exc), "danger")
                status = 403
            else:
                db.session.commit()
                flash(f"已登记项目“{project.name}”。", "success")
                return redirect(url_for("projects.detail", project_id=project.id))
    return render_template("projects/form.html", form=form, project=None), status


@bp.get("/<int:project_id>")
@login_required
def detail(project_id: int):
    """Show a project: facts, stage actions, approval items, milestones and its history."""
    return _render_detail(queries.project_detail(project_id, current_user))


def stage_choices(project) -> list[tuple[str, str]]:
    """The next stage first (the usual move), then pause/drop, then going back."""
    targets = allowed_targets(project.stage, project.paused_from)
    forward = [t for t in targets if t is next_stage(project.stage) or project.stage is Stage.PAUSED]
    side = [t for t in targets if t in (Stage.PAUSED, Stage.DROPPED) and t not in forward]
    back = [t for t in targets if t not in forward and t not in side]
    return ([(t.value, f"进入“{t.label}”" if t is not Stage.DROPPED else "终止") for t in forward]
            + [(t.value, "暂缓" if t is Stage.PAUSED else "终止") for t in side]
            + [(t.value, f"退回到“{t.label}”") for t in back])


def _render_detail(project, status: int = 200, **forms):
    today = clock.today()
    can_edit = project.editable_by(current_user)
    context = {"project": project, "today": today, "light": project.light(today), "can_edit": can_edit,
               "key_rows": [(label, planned, actual, milestone_light(planned, actual, today))
                            for label, planned, actual in project.key_dates()]}
    if can_edit:
        stage_form = forms.get("stage_form") or StageForm(version=project.version, formdata=None)
        stage_form.to_stage.choices = stage_choices(project)
        context.update(
            stage_form=stage_form,
            convert_form=forms.get("convert_form") or ConvertForm(version=project.version, formdata=None),
            milestone_form=forms.get("milestone_form") or MilestoneForm(version=project.version, formdata=None),
            approval_forms={item.id: ApprovalForm(version=project.version, status=item.status.value,
                                                  planned_date=item.planned_date, done_date=item.done_date,
                                                  document_no=item.document_no, formdata=None)
                            for item in project.approvals},
            milestone_forms={m.id: MilestoneUpdateForm(version=project.version, planned_date=m.planned_date,
                                                       actual_date=m.actual_date, formdata=None)
                             for m in project.milestones},
            blocker_form=forms.get("blocker_form") or BlockerForm(version=project.version, formdata=None),
            close_forms={b.id: BlockerCloseForm(version=project.version, formdata=None)
                         for b in project.blockers if b.is_open},
            escalate_form=BlockerEscalateForm(version=project.version, formdata=None))
    return render_template("projects/detail.html", **context), status


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@editors_only
def edit(project_id: int):
    """Edit a project; a save against a stale version gets the conflict page (409)."""
    project = queries.get_project_or_404(project_id, current_user, for_edit=True)
    if request.method == "GET":
        form = ProjectForm(obj=project)
        _form_choices(form)
        return render_template("projects/form.html", form=form, project=project)
    require_version_field()
    form = ProjectForm()
    _form_choices(form)
    _force_own_county(form)
    if not form.validate():
        return render_template("projects/form.html", form=form, project=project), 400
    try:
        changed = services.update_project(project, form.project_data(), version=form.version.data,
                                          by=current_user)
    except services.Conflict as conflict:
        db.session.rollback()
        return _conflict_page(conflict, form)
    except services.ProjectInvalid as exc:
        db.session.rollback()
        apply_errors(form, exc.errors)
        return render_template("projects/form.html", form=form, project=project), 400
    db.session.commit()
    flash(f"已保存：{'、'.join(changed)}。" if changed else "没有修改任何内容。", "success" if changed else "info")
    return redirect(url_for("projects.detail", project_id=project.id))


def _conflict_page(conflict: services.Conflict, form=None):
    project = conflict.project
    db.session.refresh(project)
    rows = []
    if isinstance(form, ProjectForm):
        for name, label in services.FIELD_LABELS.items():
            mine = services.display(name, form._fields[name].data)
            current = services.display(name, getattr(project, name))
            rows.append((label, current, mine, current != mine))
    return render_template("projects/conflict.html", project=project, events=conflict.events,
                           rows=rows, form=form), 409


def _item_action(project_id: int, form_class, action, success: str, form_key: str):
    """Run one detail-page action: version check, service call, commit once, or re-render."""
    project = queries.get_project_or_404(project_id, current_user, for_edit=True)
    require_version_field()
    form = form_class()
    if form_class is StageForm:
        form.to_stage.choices = [(s.value, s.label) for s in Stage]
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
        return _render_detail(project, status=400, **{form_key: form})
    try:
        action(project, form)
    except services.Conflict as conflict:
        db.session.rollback()
        return _conflict_page(conflict)
    except services.ProjectInvalid as exc:
        db.session.rollback()
        for message in exc.errors.values():
            flash(message, "danger")
        return _render_detail(queries.project_detail(project_id, current_user), status=400, **{form_key: form})
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("projects.detail", project_id=project_id))


@bp.post("/<int:project_id>/stage")
@editors_only
def change_stage(project_id: int):
    """Move a project to another stage if the rules and gates allow it."""
    return _item_action(project_id, StageForm, lambda project, form: services.change_stage(
        project, form.to_stage.data, version=form.version.data, by=current_user,
        reason=form.reason.data, resume_date=form.resume_date.data), "已变更项目阶段。", "stage_form")


@bp.post("/<int:project_id>/convert")
@editors_only
def convert(project_id: int):
    """Record that the agreement became a contract."""
    return _item_action(project_id, ConvertForm, lambda project, form: services.convert_to_contract(
        project, form.contract_date.data, version=form.version.data, by=current_user),
        "已登记协议转合同。", "convert_form")


@bp.post("/<int:project_id>/approvals/<int:item_id>")
@editors_only
def update_approval(project_id: int, item_id: int):
    """Update one approval item (前期手续)."""
    def action(project, form):
        item = db.session.get(ApprovalItem, item_id)
        if item is None or item.project_id != project.id:
            abort(404)
        services.update_approval(project, item, status=form.status.data, planned_date=form.planned_date.data,
                                 done_date=form.done_date.data, document_no=form.document_no.data,
                                 version=form.version.data, by=current_user)
    return _item_action(project_id, ApprovalForm, action, "已保存前期手续。", "approval_form")


@bp.post("/<int:project_id>/milestones")
@editors_only
def add_milestone(project_id: int):
    """Add a milestone with its planned date."""
    return _item_action(project_id, MilestoneForm, lambda project, form: services.add_milestone(
        project, name=form.name.data, planned_date=form.planned_date.data, note=form.note.data,
        version=form.version.data, by=current_user), "已添加节点。", "milestone_form")


@bp.post("/<int:project_id>/milestones/<int:milestone_id>")
@editors_only
def update_milestone(project_id: int, milestone_id: int):
    """Update a milestone's planned or actual date."""
    def action(project, form):
        milestone = db.session.get(Milestone, milestone_id)
        if milestone is None or milestone.project_id != project.id:
            abort(404)
        services.update_milestone(project, milestone, planned_date=form.planned_date.data,
                                  actual_date=form.actual_date.data, version=form.version.data, by=current_user)
    return _item_action(project_id, MilestoneUpdateForm, action, "已保存节点。", "milestone_update_form")


admin_bp = Blueprint("approval_types", __name__, url_prefix="/admin/approval-types")


@admin_bp.route("/", methods=["GET", "POST"])
@admin_required
def approval_types():
    """List the approval items every project carries, and add one."""
    form = ApprovalTypeForm()
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            kind = services.add_approval_type(form.name.data, by=current_user)
        except services.ProjectInvalid as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(f"已添加前期手续“{kind.name}”，所有项目都已加上此项。", "success")
            return redirect(url_for("approval_types.approval_types"))
    kinds = db.session.scalars(select(ApprovalItemType).order_by(ApprovalItemType.position))
    return render_template("projects/approval_types.html", form=form, kinds=kinds), status


def _blocker_of(project, blocker_id: int) -> Blocker:
    blocker = db.session.get(Blocker, blocker_id)
    if blocker is None or blocker.project_id != project.id:
        abort(404)
    return blocker


@bp.post("/<int:project_id>/blockers")
@editors_only
def add_blocker(project_id: int):
    """Record a problem holding the project back and the department that must act."""
    return _item_action(project_id, BlockerForm, lambda project, form: services.add_blocker(
        project, category=form.category.data, description=form.description.data, department=form.department.data,
        due_date=form.due_date.data, escalated=form.escalated.data, version=form.version.data, by=current_user),
        "已登记存在问题。", "blocker_form")


@bp.post("/<int:project_id>/blockers/<int:blocker_id>/escalate")
@editors_only
def escalate_blocker(project_id: int, blocker_id: int):
    """Raise an open problem to the project's hooked leader."""
    return _item_action(project_id, BlockerEscalateForm, lambda project, form: services.escalate_blocker(
        project, _blocker_of(project, blocker_id), version=form.version.data, by=current_user),
        "已提请挂钩领导协调。", "escalate_form")


@bp.post("/<int:project_id>/blockers/<int:blocker_id>/close")
@editors_only
def close_blocker(project_id: int, blocker_id: int):
    """Close a problem with a note on how it was solved."""
    return _item_action(project_id, BlockerCloseForm, lambda project, form: services.close_blocker(
        project, _blocker_of(project, blocker_id), closing_note=form.closing_note.data, version=form.version.data,
        by=current_user), "已关闭问题。", "close_form")


def register_park_panel(app) -> None:
    """Show a park's projects and their open blockers on the park's page (parks cannot import projects)."""
    def panel(park):
        summary = queries.park_summary(current_user, park.id)
        return render_template("projects/_park_panel.html", park=park, summary=summary,
                               blockers=queries.open_blockers(current_user, park_id=park.id))
    app.extensions.setdefault("park_panels", []).append(panel)
