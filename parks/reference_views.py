"""The administrators' reference-data pages: zones, chains and their nodes, anchor firms, each with the same create,
edit and retire pages and its change history."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from core.auth.forms import ConfirmForm
from core.auth.permissions import admin_required
from core.inputs import id_value
from core.transaction import FLASH, transaction

from . import editing, queries
from .forms import ChainForm, ChainNodeForm, EnterpriseForm, ZoneForm
from .history import history
from .models import Chain, ChainNode, Enterprise, Zone

bp = Blueprint("reference", __name__, url_prefix="/parks")


def init_app(app):
    app.register_blueprint(bp)


@dataclass(frozen=True)
class Kind:
    model: type
    form: type
    label: str
    parent: str = ""  # a query argument pre-selecting the parent on the new page (?chain_id=…)


# The URL's <kind> → what it edits.
KINDS = {"zones": Kind(Zone, ZoneForm, "集聚区"), "chains": Kind(Chain, ChainForm, "产业链"),
         "nodes": Kind(ChainNode, ChainNodeForm, "产业链环节", "chain_id"),
         "enterprises": Kind(Enterprise, EnterpriseForm, "龙头企业")}
KIND_PATH = "<any(" + ", ".join(KINDS) + "):kind>"


def _choices(form, row) -> None:
    form.set_choices(industries=queries.industries(), chains=queries.chains(keep=getattr(row, "chain_id", None)),
                     parks=queries.parks_by_county(keep=getattr(row, "park_id", None)),
                     nodes=queries.chain_nodes(keep=getattr(row, "chain_node_id", None)))


@bp.get("/reference")
@admin_required
def index():
    """List the zones, chains with their nodes, and anchor firms, retired ones marked."""
    return render_template("reference/index.html", **queries.reference_lists())


@bp.route(f"/{KIND_PATH}/new", methods=["GET", "POST"])
@admin_required
def new(kind: str):
    """Add a zone, chain, chain node or anchor firm."""
    spec = KINDS[kind]
    form = spec.form()
    if request.method == "GET" and spec.parent:
        form[spec.parent].data = request.args.get(spec.parent, type=id_value)
    return _save(kind, form, None)


@bp.route(f"/{KIND_PATH}/<int:row_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(kind: str, row_id: int):
    """Edit a zone, chain, chain node or anchor firm."""
    row = queries.row_or_404(KINDS[kind].model, row_id)
    return _save(kind, KINDS[kind].form(obj=row) if request.method == "GET" else KINDS[kind].form(), row)


def _save(kind: str, form, row):
    spec = KINDS[kind]
    _choices(form, row)
    if request.method == "POST" and form.validate():
        data = {name: field.data for name, field in form._fields.items() if name not in ("csrf_token", "submit")}
        with transaction(errors_to=form) as tx:
            saved = editing.save_entry(spec.model, row, data, by=current_user)
        if tx.ok:
            flash(f"已保存{spec.label}“{saved.name}”。", "success")
            return redirect(url_for("reference.edit", kind=kind, row_id=saved.id))
    status = 400 if request.method == "POST" else 200
    return render_template("reference/form.html", form=form, row=row, kind=kind, label=spec.label,
                           confirm=ConfirmForm() if row else None,
                           history=history(spec.model.__tablename__, row.id) if row else []), status


@bp.post(f"/{KIND_PATH}/<int:row_id>/retire")
@admin_required
def retire(kind: str, row_id: int):
    """Retire a row: gone from every choice list, still shown where it is used."""
    return _retire_or_restore(kind, row_id, editing.retire, "已撤销")


@bp.post(f"/{KIND_PATH}/<int:row_id>/restore")
@admin_required
def restore(kind: str, row_id: int):
    """Bring a retired row back into the choice lists."""
    return _retire_or_restore(kind, row_id, editing.restore, "已恢复")


def _retire_or_restore(kind: str, row_id: int, action, done: str):
    spec = KINDS[kind]
    row = queries.row_or_404(spec.model, row_id)
    if not ConfirmForm().validate_on_submit():
        flash("表单已过期，请重试。", "warning")
    else:
        with transaction(errors_to=FLASH) as tx:
            action(row, by=current_user)
        if tx.ok:
            flash(f"{done}{spec.label}“{row.name}”。", "success")
    return redirect(url_for("reference.edit", kind=kind, row_id=row.id))
