"""The lead pages: the list, logging a lead with the duplicate warning, a lead's page and its actions, editing."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core import audit, clock
from core.auth.models import Role
from core.auth.queries import counties_for
from core.inputs import has_control_characters
from core.transaction import FLASH, transaction
from parks.queries import industries_with_chains, parks_by_county
from projects.events.queries import event_choices
from projects.views import editors_only, require_version_field

from . import queries, services
from .forms import FollowUpForm, LeadConvertForm, LeadForm, LeadStatusForm
from .models import LeadStatus

bp = Blueprint("leads", __name__, url_prefix="/leads")


def init_app(app) -> None:
    app.register_blueprint(bp)


def _lead_form_choices(form: LeadForm, lead=None) -> None:
    # A retired park or chain node stays offered only to the lead that already has it.
    form.set_choices(counties=counties_for(current_user), parks=parks_by_county(keep=getattr(lead, "park_id", None)),
                     industries=industries_with_chains(keep_node=getattr(lead, "chain_node_id", None)),
                     owners=queries.owner_choices(current_user, lead))


def _clocks():
    return queries.LeadClocks.from_config(current_app.config)


def _search_text(text: str | None) -> str:
    # A control character (a NUL is a 500 on PostgreSQL) makes no search: the filter is dropped.
    text = (text or "").strip()[:100]
    return "" if has_control_characters(text) else text


@bp.get("/")
@login_required
def index():
    """List the leads the user may see, overdue ones first and marked red."""
    status = request.args.get("status", "")
    status = LeadStatus(status) if status in {s.value for s in LeadStatus} else None
    mine = request.args.get("mine") == "1"
    rows = queries.leads_with_flags(current_user, _clocks(), clock.today(), status=status,
                                    overdue_only=request.args.get("overdue") == "1",
                                    owner_id=current_user.id if mine else None,
                                    q=_search_text(request.args.get("q")), limit=500)
    return render_template("leads/index.html", rows=rows, statuses=LeadStatus, status=status, mine=mine,
                           clocks=_clocks())


@bp.route("/new", methods=["GET", "POST"])
@editors_only
def new():
    """Log a lead the day it is heard of; warn about a matching investor before saving."""
    form = LeadForm(version=0)
    _lead_form_choices(form)
    if request.method == "GET":
        if current_user.role is Role.COUNTY:
            form.county_code.data = current_user.county_code
        return render_template("leads/form.html", form=form, lead=None, duplicates=None)
    if form.validate():
        with transaction(errors_to=form) as tx:
            lead = services.create_lead(form.lead_data(), by=current_user, duplicate_reason=form.duplicate_reason.data)
        if tx.ok:
            flash(f"已登记线索“{lead.investor_name}”。", "success")
            return redirect(url_for("leads.detail", lead_id=lead.id))
        if isinstance(tx.error, services.DuplicateInvestor):
            flash("投资方与已有线索或项目重复，请查看下方的匹配。确属新线索（如集团的第二个项目）时，请填写理由后再保存。", "warning")
            return render_template("leads/form.html", form=form, lead=None, duplicates=tx.error)
    return render_template("leads/form.html", form=form, lead=None, duplicates=None), 400


@bp.get("/<int:lead_id>")
@login_required
def detail(lead_id: int):
    """Show a lead: facts, deadlines, follow-up log, status and signing actions, history."""
    return _render_detail(queries.get_lead_or_404(lead_id, current_user))


def _render_detail(lead, status: int = 200, **forms):
    rows = queries.leads_with_flags(current_user, _clocks(), clock.today(), lead_id=lead.id)
    overdue = rows[0][1] if rows else []
    can_edit = lead.editable_by(current_user)
    context = {"lead": lead, "overdue": overdue, "can_edit": can_edit,
               "history": audit.entries_for("lead", lead.id),
               # Packages built on leads (the chains' 推荐园区) add sections here without leads importing them.
               "panels": [panel(lead) for panel in current_app.extensions.get("lead_panels", [])]}
    if can_edit and lead.status not in (LeadStatus.SIGNED, LeadStatus.ABANDONED):
        status_form = forms.get("status_form") or LeadStatusForm(version=lead.version, formdata=None)
        status_form.status.choices = [(s.value, s.label) for s in services.LEAD_TRANSITIONS[lead.status]]
        convert_form = forms.get("convert_form") or LeadConvertForm(
            version=lead.version, formdata=None, county_code=lead.county_code,
            total_investment=lead.estimated_investment, sign_date=clock.today(),
            name=f"{lead.investor_name}投资项目")
        convert_form.set_choices(counties=counties_for(current_user), events=event_choices())
        context.update(status_form=status_form, convert_form=convert_form,
                       follow_up_form=forms.get("follow_up_form") or FollowUpForm(formdata=None, date=clock.today()))
    return render_template("leads/detail.html", **context), status


def _stale(lead_id: int, message: str):
    flash(message, "danger")
    return _render_detail(queries.get_lead_or_404(lead_id, current_user), status=409)


@bp.route("/<int:lead_id>/edit", methods=["GET", "POST"])
@editors_only
def edit(lead_id: int):
    """Edit a lead; a stale version is refused with 409."""
    lead = queries.get_lead_or_404(lead_id, current_user, for_edit=True)
    if request.method == "GET":
        form = LeadForm(obj=lead)
        _lead_form_choices(form, lead)
        return render_template("leads/form.html", form=form, lead=lead, duplicates=None)
    require_version_field()
    form = LeadForm()
    _lead_form_choices(form, lead)
    if not form.validate():
        return render_template("leads/form.html", form=form, lead=lead, duplicates=None), 400
    with transaction(errors_to=form) as tx:
        changed = services.update_lead(lead, form.lead_data(), version=form.version.data, by=current_user)
    if isinstance(tx.error, services.LeadConflict):
        return _stale(lead_id, tx.error.message)
    if not tx.ok:
        return render_template("leads/form.html", form=form, lead=lead, duplicates=None), 400
    flash(f"已保存：{'、'.join(changed)}。" if changed else "没有修改任何内容。", "success" if changed else "info")
    return redirect(url_for("leads.detail", lead_id=lead.id))


def _lead_action(lead_id: int, form_class, action, success: str, form_key: str, versioned: bool = True):
    lead = queries.get_lead_or_404(lead_id, current_user, for_edit=True)
    if versioned:
        require_version_field()
    form = form_class()
    if form_class is LeadStatusForm:
        form.status.choices = [(s.value, s.label) for s in LeadStatus]
    if form_class is LeadConvertForm:
        form.set_choices(counties=counties_for(current_user), events=event_choices())
    if not form.validate():
        for messages in form.errors.values():
            for message in messages:
                flash(message, "danger")
        return _render_detail(lead, status=400, **{form_key: form})
    with transaction(errors_to=FLASH) as tx:
        result = action(lead, form)
    if isinstance(tx.error, services.LeadConflict):
        return _stale(lead_id, "该线索已被他人修改，操作未执行。请查看最新内容后重试。")
    if not tx.ok:
        return _render_detail(queries.get_lead_or_404(lead_id, current_user), status=400, **{form_key: form})
    flash(success, "success")
    return result or redirect(url_for("leads.detail", lead_id=lead_id))


@bp.post("/<int:lead_id>/follow-ups")
@editors_only
def add_follow_up(lead_id: int):
    """Log a follow-up on the lead."""
    return _lead_action(lead_id, FollowUpForm, lambda lead, form: services.add_follow_up(
        lead, date=form.date.data, kind=form.kind.data, summary=form.summary.data, next_step=form.next_step.data,
        next_due=form.next_due.data, by=current_user) and None, "已记录跟进。", "follow_up_form", versioned=False)


@bp.post("/<int:lead_id>/status")
@editors_only
def change_status(lead_id: int):
    """Move the lead to 研判, 在谈 or 放弃."""
    return _lead_action(lead_id, LeadStatusForm, lambda lead, form: services.change_lead_status(
        lead, form.status.data, reason=form.reason.data, version=form.version.data, by=current_user),
        "已变更线索状态。", "status_form")


@bp.post("/<int:lead_id>/convert")
@editors_only
def convert(lead_id: int):
    """Sign the lead: create its project with everything carried over and link the two."""
    def action(lead, form):
        project = services.convert_lead(lead, {
            "name": form.name.data, "county_code": form.county_code.data, "total_investment": form.total_investment.data,
            "sign_type": form.sign_type.data, "sign_date": form.sign_date.data,
            "signing_event_id": form.signing_event_id.data}, version=form.version.data, by=current_user)
        return redirect(url_for("projects.detail", project_id=project.id))
    return _lead_action(lead_id, LeadConvertForm, action, "线索已转为签约项目。", "convert_form")
