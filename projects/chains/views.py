"""The chain pages: the chain map, a node's projects and leads, the gap list and its workbook, the JSON API, and the
推荐园区 panel on a lead's page."""
from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import quote

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_login import current_user, login_required
from markupsafe import Markup

from core import clock, logs
from core.auth.models import Role
from core.auth.queries import current_counties
from parks.models import CapacityMeasure

from . import queries, recommend
from .forms import ChainFilterForm
from .queries import ChainFilters
from .status import COUNTED, COUNTED_NOTE, DEFINITIONS, NodeStatus

bp = Blueprint("chains", __name__)
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.extensions.setdefault("lead_panels", []).append(_lead_panel)


def _filters() -> tuple[ChainFilterForm, ChainFilters]:
    """County and signing year from the query string. Every role may pick any county: the figures are numbers
    only (a county official reads no other county's names on these pages)."""
    form = ChainFilterForm(request.args)
    form.read(counties=current_counties(), years=queries.sign_years())
    return form, ChainFilters(county=form.value("county"), year=form.value("year"))


def _context(form: ChainFilterForm, filters: ChainFilters) -> dict:
    args = {key: value for key, value in (("county", filters.county), ("year", filters.year)) if value}
    return {"form": form, "filters": filters, "args": args, "statuses": list(NodeStatus), "definitions": DEFINITIONS,
            "counted_note": COUNTED_NOTE, "stages": COUNTED}


@bp.get("/chains")
@login_required
def index():
    """Show every industry's chains upstream to downstream, each node with its status and figures."""
    form, filters = _filters()
    return render_template("chains/index.html", rows=queries.chain_map(filters), **_context(form, filters))


@bp.get("/chains/nodes/<int:node_id>")
@login_required
def node(node_id: int):
    """Show a node's anchor firms, projects and active leads (a county official: only their county's by name)."""
    form, filters = _filters()
    detail = queries.node_detail(queries.node_or_404(node_id), current_user, filters)
    return render_template("chains/node.html", detail=detail, node=detail.figures.node,
                           own_county=current_user.county.name if current_user.role is Role.COUNTY else None,
                           **_context(form, filters))


@bp.get("/chains/gaps")
@login_required
def gaps():
    """List the gap and weak nodes (缺什么引什么) with the parks positioned for them and their free land."""
    form, filters = _filters()
    return render_template("chains/gaps.html", rows=queries.gap_list(filters), today=clock.today(),
                           measures=SimpleNamespace(free_land=CapacityMeasure.FREE_LAND,
                                                    factory_space=CapacityMeasure.FACTORY_SPACE),
                           **_context(form, filters))


@bp.get("/chains/gaps.xlsx")
@login_required
def gaps_export():
    """Download the gap list as an .xlsx workbook for the promotion plan."""
    from . import excel  # pandas loads only when a workbook is asked for

    _form, filters = _filters()
    today = clock.today()
    title = f"产业链缺链弱链及可承接园区（{today:%Y-%m-%d}）"
    content = excel.gap_workbook(queries.gap_records(filters, today), title=title)
    logs.event("chain_gaps_exported")
    return current_app.response_class(content, mimetype=XLSX_MIMETYPE, headers={
        "Content-Disposition": f"attachment; filename=\"chain-gaps-{today:%Y%m%d}.xlsx\"; "
                               f"filename*=UTF-8''{quote(title + '.xlsx')}"})


@bp.get("/api/v1/chains")
@login_required
def api():
    """Industries → chains → nodes as JSON, each node with its status and figures (numbers only)."""
    _form, filters = _filters()
    return jsonify({
        "filters": {"county": filters.county, "year": filters.year},
        "statuses": {status.value: DEFINITIONS[status] for status in NodeStatus},
        "industries": [{
            "id": row.industry.id, "name": row.industry.name,
            "chains": [{"id": chain.chain.id, "name": chain.chain.name, "nodes": [{
                "id": figures.node.id, "name": figures.node.name, "status": figures.status.value,
                "anchor_firms": figures.anchor_firms,
                "projects": {stage.value: figures.stages.get(stage, 0) for stage in COUNTED},
                "investment": float(figures.investment), "active_leads": figures.active_leads,
            } for figures in chain.nodes]} for chain in row.chains],
        } for row in queries.chain_map(filters)],
    })


def _lead_panel(lead) -> str:
    return Markup(render_template("chains/_lead_panel.html", lead=lead,
                                  advice=recommend.recommend_parks(lead, clock.today())))
