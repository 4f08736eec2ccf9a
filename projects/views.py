"""The project pages: list, register, the project page and its actions, edit (with the conflict page), approval list."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from core import clock
from core.auth.models import Role
from core.auth.permissions import admin_required, roles_required
from core.inputs import id_value
from core.transaction import FLASH, transaction

from . import queries, rules, services
from .forms import (
    ApprovalForm,
    ApprovalTypeForm,
    ConvertForm,
    ListFilterForm,
    MilestoneForm,
    MilestoneUpdateForm,
    ProjectForm,
    StageForm,
)
from .models import EDITOR_ROLES, can_edit_projects
from .stages import FACT_LABELS, Light, SignType, Stage, allowed_targets, milestone_light, next_stage

bp = Blueprint("projects", __name__, url_prefix="/projects")
admin_bp = Blueprint("approval_types", __name__, url_prefix="/admin/approval-types")

editors_only = roles_required(*EDITOR_ROLES)
commerce_only = roles_required(Role.COMMERCE, Role.ADMIN)


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    app.add_template_global(can_edit_projects)
    app.add_template_global(rules.light_badge)
    app.add_template_global(rules.stage_badge)
    app.add_template_global(item_extras)
    app.extensions.setdefault("park_panels", []).append(_park_panel)


def add_project_panel(app, panel) -> None:
    """Let a package built on projects add a section to the project page: ``panel(project, can_edit, forms)``
    returns its HTML; ``forms`` holds a form of its own that failed, to show again with its errors."""
    app.extensions.setdefault("project_panels", []).append(panel)


def add_item_extra(app, extra) -> None:
    """Let a package built on projects add to each approval item, milestone and blocker on the project page:
    ``extra(project, kind, item)`` returns its HTML, kind being "approval_item", "milestone" or "blocker"."""
    app.extensions.setdefault("project_item_extras", []).append(extra)


def item_extras(project, kind: str, item) -> Markup:
    return Markup("").join(extra(project, kind, item) for extra in current_app.extensions.get("project_item_extras", []))


def require_version_field() -> None:
    # A POST that lost its version cannot be checked against concurrent edits: refuse it outright.
    if "version" not in request.form:
        raise rules.ProjectInvalid({"": "缺少版本号，请刷新页面后重试。"})


def _form_choices(form: ProjectForm, project=None) -> None:
    # A retired park or chain node stays offered only to the project that already has it.
    form.set_choices(**queries.form_choices(current_user, keep_park=getattr(project, "park_id", None),
                                            keep_node=getattr(project, "chain_node_id", None)))


def _force_own_county(form: ProjectForm) -> None:
    # A county official's projects are always their county's, whatever the request says.
    if current_user.role is Role.COUNTY:
        form.county_code.data = current_user.county_code


@bp.get("/")
@login_required
def index():
    """List the projects the user may see, filtered, searched, sorted and paginated."""
    form = ListFilterForm(request.args)
    choices = queries.picker_choices(current_user, keep_park=request.args.get("park", type=id_value))
    form.set_choices(counties=choices["counties"], parks=choices["parks"], industries=choices["industries"],
                     years=choices["years"], sorts=queries.SORTS)
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
        gaps=bool(form.gaps.data),
        q=(form.q.data or "").strip()[:100] if not form.q.errors else "",
        sort=form.sort.data if not form.sort.errors else "")
    # type=int: anything int() refuses ("abc", "²", which str.isdigit() accepts) means page 1.
    page = request.args.get("page", 1, type=int)
    result = queries.list_page(current_user, filters, page, clock.today())
    # Only the filters go into the pager's links: url_for would choke on "_scheme" or "endpoint".
    args = {k: v for k, v in request.args.items() if k in form._fields and k != "page" and v}
    return render_template("projects/index.html", form=form, result=result, args=args)


@bp.route("/new", methods=["GET", "POST"])
@editors_only
def new():
    """Register a signed (or still negotiating) project."""
    form = ProjectForm(version=0)
    _form_choices(form)
    _force_own_county(form)
    if request.method == "GET":
        return render_template("projects/form.html", form=form, project=None)
    if form.validate():
        stage = Stage.NEGOTIATING if request.form.get("negotiating") == "1" else Stage.SIGNED
        with transaction(errors_to=form) as tx:
            project = services.create_project(form.project_data(), by=current_user, stage=stage)
        if tx.ok:
            flash(f"已登记项目“{project.name}”。", "success")
            return redirect(url_for("projects.detail", project_id=project.id))
    return render_template("projects/form.html", form=form, project=None), 400


@bp.get("/<int:project_id>")
@login_required
def detail(project_id: int):
    """Show a project: facts, stage actions, approval items, milestones and its history."""
    return render_detail(queries.project_detail(project_id, current_user))


def stage_choices(project) -> list[tuple[str, str]]:
    """The next stage first (the usual move), then pause/drop, then going back."""
    targets = allowed_targets(project.stage, project.paused_from)
    forward = [t for t in targets if t is next_stage(project.stage) or project.stage is Stage.PAUSED]
    side = [t for t in targets if t in (Stage.PAUSED, Stage.DROPPED) and t not in forward]
    back = [t for t in targets if t not in forward and t not in side]
    return ([(t.value, f"进入“{t.label}”" if t is not Stage.DROPPED else "终止") for t in forward]
            + [(t.value, "暂缓" if t is Stage.PAUSED else "终止") for t in side]
            + [(t.value, f"退回到“{t.label}”") for t in back])


def render_detail(project, status: int = 200, **forms):
    """The project page; ``forms`` are forms that failed, shown again with their errors."""
    today = clock.today()
    can_edit = project.editable_by(current_user)
    context = {"project": project, "today": today, "light": project.light(today), "can_edit": can_edit,
               "gaps": [(FACT_LABELS[key], key) for key in project.gaps()],
               "key_rows": [(label, planned, actual, milestone_light(planned, actual, today))
                            for label, planned, actual in project.key_dates()],
               "panels": [panel(project, can_edit, forms)
                          for panel in current_app.extensions.get("project_panels", [])]}
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
                             for m in project.milestones})
    return render_template("projects/detail.html", **context), status


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@editors_only
def edit(project_id: int):
    """Edit a project; a save against a stale version gets the conflict page (409)."""
    project = queries.get_project_or_404(project_id, current_user, for_edit=True)
    if request.method == "GET":
        form = ProjectForm(obj=project)
        _form_choices(form, project)
        return render_template("projects/form.html", form=form, project=project)
    require_version_field()
    form = ProjectForm()
    _form_choices(form, project)
    _force_own_county(form)
    if not form.validate():
        return render_template("projects/form.html", form=form, project=project), 400
    with transaction(errors_to=form) as tx:
        changed = services.update_project(project, form.project_data(), version=form.version.data,
                                          by=current_user)
    if isinstance(tx.error, rules.Conflict):
        return conflict_page(tx.error, form)
    if not tx.ok:
        return render_template("projects/form.html", form=form, project=project), 400
    flash(f"已保存：{'、'.join(changed)}。" if changed else "没有修改任何内容。", "success" if changed else "info")
    return redirect(url_for("projects.detail", project_id=project.id))


def conflict_page(conflict: rules.Conflict, form=None):
    """What changed since the user loaded the project, and (from the edit form) their unsaved input (409)."""
    rows = []
    if isinstance(form, ProjectForm):
        for name, label in rules.FIELD_LABELS.items():
            mine = rules.display(name, form._fields[name].data)
            current = rules.display(name, getattr(conflict.project, name))
            rows.append((label, current, mine, current != mine))
    return render_template("projects/conflict.html", project=conflict.project, events=conflict.events,
                           rows=rows, form=form), 409


def item_action(project_id: int, form_class, action, success: str, form_key: str):
    """Run one action of the project page: version check, the service in one transaction, or the page again."""
    project = queries.get_project_or_404(project_id, current_user, for_edit=True)
    require_version_field()
    form = form_class()
    if form_class is StageForm:
        form.to_stage.choices = [(s.value, s.label) for s in Stage]
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
        return render_detail(project, status=400, **{form_key: form})
    with transaction(errors_to=FLASH) as tx:
        action(project, form)
    if isinstance(tx.error, rules.Conflict):
        return conflict_page(tx.error)
    if not tx.ok:
        return render_detail(queries.project_detail(project_id, current_user), status=400, **{form_key: form})
    flash(success, "success")
    return redirect(url_for("projects.detail", project_id=project_id))


@bp.post("/<int:project_id>/stage")
@editors_only
def change_stage(project_id: int):
    """Move a project to another stage if the rules and gates allow it."""
    return item_action(project_id, StageForm, lambda project, form: services.change_stage(
        project, form.to_stage.data, version=form.version.data, by=current_user,
        reason=form.reason.data, resume_date=form.resume_date.data), "已变更项目阶段。", "stage_form")


@bp.post("/<int:project_id>/convert")
@editors_only
def convert(project_id: int):
    """Record that the agreement became a contract."""
    return item_action(project_id, ConvertForm, lambda project, form: services.convert_to_contract(
        project, form.contract_date.data, version=form.version.data, by=current_user),
        "已登记协议转合同。", "convert_form")


@bp.post("/<int:project_id>/approvals/<int:item_id>")
@editors_only
def update_approval(project_id: int, item_id: int):
    """Update one approval item (前期手续)."""
    def action(project, form):
        services.update_approval(project, queries.approval_item_or_404(project, item_id), status=form.status.data,
                                 planned_date=form.planned_date.data, done_date=form.done_date.data,
                                 document_no=form.document_no.data, version=form.version.data, by=current_user)
    return item_action(project_id, ApprovalForm, action, "已保存前期手续。", "approval_form")


@bp.post("/<int:project_id>/milestones")
@editors_only
def add_milestone(project_id: int):
    """Add a milestone with its planned date."""
    return item_action(project_id, MilestoneForm, lambda project, form: services.add_milestone(
        project, name=form.name.data, planned_date=form.planned_date.data, note=form.note.data,
        version=form.version.data, by=current_user), "已添加节点。", "milestone_form")


@bp.post("/<int:project_id>/milestones/<int:milestone_id>")
@editors_only
def update_milestone(project_id: int, milestone_id: int):
    """Update a milestone's planned or actual date."""
    def action(project, form):
        services.update_milestone(project, queries.milestone_or_404(project, milestone_id),
                                  planned_date=form.planned_date.data, actual_date=form.actual_date.data,
                                  version=form.version.data, by=current_user)
    return item_action(project_id, MilestoneUpdateForm, action, "已保存节点。", "milestone_update_form")


@admin_bp.route("/", methods=["GET", "POST"])
@admin_required
def approval_types():
    """List the approval items every project carries, and add one."""
    form = ApprovalTypeForm()
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        with transaction(errors_to=form) as tx:
            kind = services.add_approval_type(form.name.data, by=current_user)
        if tx.ok:
            flash(f"已添加前期手续“{kind.name}”，所有项目都已加上此项。", "success")
            return redirect(url_for("approval_types.approval_types"))
    return render_template("projects/approval_types.html", form=form, kinds=queries.approval_types()), status


def _park_panel(park):
    """A park's projects on the park's page (parks cannot import projects)."""
    return Markup(render_template("projects/_park_panel.html", park=park,
                                  summary=queries.park_summary(current_user, park.id),
                                  to_review=queries.projects_to_review(current_user, park.id)))
