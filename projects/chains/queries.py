"""Reading the chain map: each node's anchor firms, projects by stage, investment and active leads (city-wide
figures for every role), a node's own projects and leads (names only of the user's county), and the gap list."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import extract, func, or_, select
from sqlalchemy.orm import selectinload

from core.auth.models import User
from core.db import db
from parks.models import CapacityMeasure, Chain, ChainNode, Enterprise, Industry, Park, Zone
from parks.queries import CAPACITY_STALE_DAYS, Capacity, area_text, capacities, industries_with_chains
from projects.leads.models import Lead, LeadStatus
from projects.leads.queries import visible_leads
from projects.models import Project
from projects.queries import visible_projects
from projects.stages import Stage

from .status import COUNTED, NodeStatus, classify

ACTIVE_LEADS = (LeadStatus.NEW, LeadStatus.ASSESSING, LeadStatus.NEGOTIATING)


@dataclass(frozen=True)
class ChainFilters:
    """The chain map's scope: the projects' and leads' county, and the projects' signing year."""

    county: str | None = None
    year: int | None = None


@dataclass
class NodeFigures:
    node: ChainNode
    anchor_firms: list[str] = field(default_factory=list)
    stages: dict[Stage, int] = field(default_factory=dict)  # counted stages only (no 暂缓, 终止)
    investment: Decimal = Decimal("0")  # 万元, of the counted projects
    leads: dict[LeadStatus, int] = field(default_factory=dict)

    @property
    def status(self) -> NodeStatus:
        return classify(len(self.anchor_firms), self.stages)

    @property
    def projects(self) -> int:
        return sum(self.stages.values())

    @property
    def active_leads(self) -> int:
        return sum(self.leads.values())


@dataclass
class ChainRow:
    chain: Chain
    nodes: list[NodeFigures]


@dataclass
class IndustryRow:
    industry: Industry
    chains: list[ChainRow]

    @property
    def counts(self) -> dict[NodeStatus, int]:
        counts = dict.fromkeys(NodeStatus, 0)
        for chain in self.chains:
            for node in chain.nodes:
                counts[node.status] += 1
        return counts


def _project_scope(filters: ChainFilters) -> list:
    conditions = []
    if filters.county:
        conditions.append(Project.county_code == filters.county)
    if filters.year:
        conditions.append(extract("year", Project.sign_date) == filters.year)
    return conditions


def _project_conditions(filters: ChainFilters) -> list:
    return [Project.chain_node_id.is_not(None), Project.stage.in_(COUNTED), *_project_scope(filters)]


def _lead_conditions(filters: ChainFilters) -> list:
    conditions = [Lead.chain_node_id.is_not(None), Lead.status.in_(ACTIVE_LEADS)]
    if filters.county:
        conditions.append(Lead.county_code == filters.county)
    return conditions


def anchor_firms(filters: ChainFilters = ChainFilters()) -> dict[int, list[str]]:
    """Node id → the names of the anchor firms in use that hold it (in the county's parks, when one is chosen)."""
    query = (select(Enterprise.chain_node_id, Enterprise.name)
             .where(Enterprise.chain_node_id.is_not(None), Enterprise.retired_at.is_(None))
             .order_by(Enterprise.position, Enterprise.id))
    if filters.county:
        query = query.join(Park, Enterprise.park_id == Park.id).where(Park.county_code == filters.county)
    firms: dict[int, list[str]] = {}
    for node_id, name in db.session.execute(query):
        firms.setdefault(node_id, []).append(name)
    return firms


def node_figures(filters: ChainFilters = ChainFilters()) -> dict[int, NodeFigures]:
    """Every node's figures in three grouped queries (firms, projects, leads), city-wide within the filters."""
    figures: dict[int, NodeFigures] = {}

    def of(node_id: int) -> NodeFigures:
        return figures.setdefault(node_id, NodeFigures(node=None))

    for node_id, names in anchor_firms(filters).items():
        of(node_id).anchor_firms = names
    projects = (select(Project.chain_node_id, Project.stage, func.count(), func.coalesce(func.sum(Project.total_investment), 0))
                .where(*_project_conditions(filters)).group_by(Project.chain_node_id, Project.stage))
    for node_id, stage, count, investment in db.session.execute(projects):
        figure = of(node_id)
        figure.stages[stage] = count
        figure.investment += Decimal(investment)
    leads = (select(Lead.chain_node_id, Lead.status, func.count()).where(*_lead_conditions(filters))
             .group_by(Lead.chain_node_id, Lead.status))
    for node_id, status, count in db.session.execute(leads):
        of(node_id).leads[status] = count
    return figures


def chain_map(filters: ChainFilters = ChainFilters()) -> list[IndustryRow]:
    """Industries → chains → nodes (upstream to downstream, as positioned), each node with its figures; chains and
    nodes in use only, industries without chains left out."""
    figures = node_figures(filters)
    rows = []
    for industry in industries_with_chains():
        chains = []
        for chain in industry.chains:
            nodes = []
            for node in chain.nodes:
                figure = figures.get(node.id) or NodeFigures(node=node)
                figure.node = node
                nodes.append(figure)
            chains.append(ChainRow(chain, nodes))
        if chains:
            rows.append(IndustryRow(industry, chains))
    return rows


def node_or_404(node_id: int) -> ChainNode:
    return db.one_or_404(select(ChainNode).where(ChainNode.id == node_id).options(
        selectinload(ChainNode.chain).selectinload(Chain.industry)))


@dataclass
class NodeDetail:
    """A node's own projects and leads as ``user`` may name them, and how many others (other counties') exist."""

    figures: NodeFigures
    projects: list[Project]
    leads: list[Lead]
    hidden_projects: int
    hidden_leads: int
    firms: list[Enterprise]


def node_detail(node: ChainNode, user: User, filters: ChainFilters) -> NodeDetail:
    """The node's projects (paused and dropped ones too, marked as not counted) and active leads."""
    figures = node_figures(filters).get(node.id) or NodeFigures(node=node)
    figures.node = node
    project_conditions = [Project.chain_node_id == node.id, *_project_scope(filters)]
    projects = list(db.session.scalars(visible_projects(user).where(*project_conditions)
                                       .options(selectinload(Project.county), selectinload(Project.park))
                                       .order_by(Project.sign_date.desc().nulls_last(), Project.id)))
    all_projects = db.session.scalar(select(func.count()).select_from(Project).where(*project_conditions))
    lead_conditions = [Lead.chain_node_id == node.id, Lead.status.in_(ACTIVE_LEADS)]
    if filters.county:
        lead_conditions.append(Lead.county_code == filters.county)
    leads = list(db.session.scalars(visible_leads(user).where(*lead_conditions)
                                    .options(selectinload(Lead.county)).order_by(Lead.created_at.desc(), Lead.id)))
    all_leads = db.session.scalar(select(func.count()).select_from(Lead).where(*lead_conditions))
    firms = list(db.session.scalars(select(Enterprise).where(Enterprise.chain_node_id == node.id,
                                                             Enterprise.retired_at.is_(None))
                                    .options(selectinload(Enterprise.park)).order_by(Enterprise.position)))
    return NodeDetail(figures, projects, leads, all_projects - len(projects), all_leads - len(leads), firms)


def industry_parks(industry_id: int) -> list[Park]:
    """The parks in use positioned for an industry: its own, or in one of its zones."""
    zones = select(Zone.id).where(Zone.industry_id == industry_id)
    return list(db.session.scalars(
        select(Park).where(Park.retired_at.is_(None), or_(Park.industry_id == industry_id, Park.zone_id.in_(zones)))
        .options(selectinload(Park.county)).order_by(Park.position, Park.id)))


@dataclass
class GapRow:
    """A gap or weak node, with the parks that could host it and what they can offer."""

    industry: Industry
    chain: Chain
    figures: NodeFigures
    parks: list[tuple[Park, Capacity | None]]


def gap_list(filters: ChainFilters = ChainFilters()) -> list[GapRow]:
    """缺什么引什么: every gap and weak node, industry by industry, with the industry's parks and their capacity."""
    rows = []
    parks_of: dict[int, list[Park]] = {}
    for industry_row in chain_map(filters):
        industry = industry_row.industry
        for chain_row in industry_row.chains:
            for figures in chain_row.nodes:
                if figures.status is NodeStatus.STRONG:
                    continue
                if industry.id not in parks_of:
                    parks_of[industry.id] = industry_parks(industry.id)
                rows.append(GapRow(industry, chain_row.chain, figures, []))
    held = capacities({park.id for parks in parks_of.values() for park in parks})
    for row in rows:
        row.parks = [(park, held.get(park.id)) for park in parks_of[row.industry.id]]
    return rows



def sign_years() -> list[int]:
    """The years projects on a chain node were signed in, newest first (the filter offers every county's)."""
    year = extract("year", Project.sign_date)
    query = select(year).where(Project.sign_date.is_not(None), Project.chain_node_id.is_not(None)).distinct()
    return sorted((int(y) for y in db.session.scalars(query)), reverse=True)


def _park_offer(park: Park, capacity: Capacity | None, today) -> str:
    """"园区（县）：可供地 X 亩、标准厂房 Y m²", flagged when a figure is older than the staleness limit."""
    if capacity is None:
        return f"{park.name}（{park.county.name}）：容量未登记"
    parts = []
    for measure in (CapacityMeasure.FREE_LAND, CapacityMeasure.FACTORY_SPACE):
        value = capacity.value(measure)
        parts.append(f"{measure.label.split('（')[0]} {area_text(value)} {measure.unit}" if value is not None
                     else f"{measure.label.split('（')[0]}未登记")
    stale = f"（超过 {CAPACITY_STALE_DAYS} 天未核实）" if capacity.stale(today) else ""
    return f"{park.name}（{park.county.name}）：{'、'.join(parts)}{stale}"


def gap_records(filters: ChainFilters, today) -> list[dict]:
    """The gap list as plain rows, the same for the page's export and the briefing's 产业链 sheet."""
    records = []
    for row in gap_list(filters):
        figures = row.figures
        free = [capacity.value(CapacityMeasure.FREE_LAND) for _, capacity in row.parks if capacity is not None]
        records.append({
            "industry": row.industry.name, "chain": row.chain.name, "node": figures.node.name,
            "status": figures.status.label,
            "negotiating": figures.stages.get(Stage.NEGOTIATING, 0), "signed": figures.stages.get(Stage.SIGNED, 0),
            "approval": figures.stages.get(Stage.APPROVAL, 0), "investment": figures.investment,
            "active_leads": figures.active_leads,
            "free_land": sum((value for value in free if value is not None), Decimal("0")),
            "parks": "；".join(_park_offer(park, capacity, today) for park, capacity in row.parks) or "尚无定位于该产业的园区",
        })
    return records
