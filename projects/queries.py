"""Reading projects: the one place they are scoped to a user's county; list filters, sorts, lights, parks' counts."""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import astuple, dataclass

from flask import url_for
from sqlalchemy import Select, and_, case, exists, extract, func, literal, or_, select, type_coerce
from sqlalchemy.orm import joinedload, selectinload

from core import cache, logs
from core.auth.models import County, Role, User
from core.auth.queries import counties_for
from core.db import db, enum_type
from core.errors import NotAllowed, NotFound
from parks.editing import Dependant
from parks.models import Park
from parks.queries import industries, industries_with_chains, park_ids_named, parks_by_county, parks_in_order

from . import rules
from .models import (
    CONSTRUCTION_PERMIT,
    ApprovalItem,
    ApprovalItemType,
    ApprovalStatus,
    Milestone,
    Project,
    ProjectEvent,
)
from .stages import REQUIRED, YELLOW_WINDOW_DAYS, Light, SignType, Stage

PAGE_SIZE = 50


def visible_projects(user: User) -> Select:
    """Projects ``user`` may see: a county official only their own county's, everyone else all."""
    query = select(Project)
    if user.role is Role.COUNTY:
        query = query.where(Project.county_code == user.county_code)
    return query


def visible_scope(user: User) -> tuple:
    """What visible_projects narrows ``user``'s projects by, as part of a cache key: users with the same scope see
    the same projects, so one county's cached view is never served to another. Change it with visible_projects."""
    return (Role.COUNTY.value, user.county_code) if user.role is Role.COUNTY else ("all",)


def get_project_or_404(project_id: int, user: User, *, for_edit: bool = False) -> Project:
    """A project the user may see (another county's is 404, so ids cannot be probed);
    ``for_edit`` also requires write access (a leader gets 403)."""
    project = db.session.scalar(visible_projects(user).where(Project.id == project_id))
    if project is None:
        not_found(Project, project_id, user)
    if for_edit and not project.editable_by(user):
        raise NotAllowed("您的账号只能查看，不能修改。")
    return project


# Relationships of Project that packages built on projects add and show on the project page: name → loader.
_DETAIL_LOADS: dict = {}


def register_detail_load(name: str, loader=selectinload) -> None:
    """Load Project.<name> (a relationship a package built on projects adds) with the project page's queries:
    ``selectinload`` for a list, ``joinedload`` for a row it points at."""
    _DETAIL_LOADS[name] = loader


def project_detail(project_id: int, user: User) -> Project:
    """A project with everything its page shows: the rows it points at joined into its own query, then one query
    per list (approval items with their types, milestones, the timeline with its users, and the panels' lists)."""
    project = db.session.scalar(
        visible_projects(user).where(Project.id == project_id).options(
            selectinload(Project.approvals).joinedload(ApprovalItem.type),
            selectinload(Project.milestones),
            selectinload(Project.events).joinedload(ProjectEvent.user),
            joinedload(Project.county), joinedload(Project.park), joinedload(Project.industry),
            joinedload(Project.chain_node), joinedload(Project.hooked_leader),
            joinedload(Project.updated_by),
            *(loader(getattr(Project, name)) for name, loader in _DETAIL_LOADS.items())))
    if project is None:
        not_found(Project, project_id, user)
    return project


def not_found(model, row_id: int, user: User):
    """404; when the row exists in another county, log the refusal (one more query, on this path only)."""
    if user.role is Role.COUNTY and db.session.get(model, row_id) is not None:
        logs.event("access_denied", "refused", reason="county", entity=model.__tablename__, entity_id=row_id)
    raise NotFound()


@functools.lru_cache(maxsize=4)
def light_expression(today: dt.date):
    """SQL for a project's light, agreeing with Project.light: red, yellow or green. Built once a day: the
    expression is immutable, and building it cost a page a millisecond."""
    soon = today + dt.timedelta(days=YELLOW_WINDOW_DAYS)
    pairs = [(Project.planned_start, Project.actual_start),
             (Project.planned_completion, Project.actual_completion),
             (Project.planned_production, Project.actual_production)]

    def overdue(planned, actual):
        return and_(actual.is_(None), planned.is_not(None), planned < today)

    def due_soon(planned, actual):
        return and_(actual.is_(None), planned.is_not(None), planned >= today, planned <= soon)

    open_milestones = select(Milestone.id).where(Milestone.project_id == Project.id,
                                                 Milestone.actual_date.is_(None))
    red = or_(*(overdue(p, a) for p, a in pairs),
              exists(open_milestones.where(Milestone.planned_date < today)))
    yellow = or_(*(due_soon(p, a) for p, a in pairs),
                 exists(open_milestones.where(Milestone.planned_date >= today,
                                              Milestone.planned_date <= soon)))
    live = Project.stage != Stage.DROPPED
    return case((and_(live, red), literal(Light.RED.value)),
                (and_(live, yellow), literal(Light.YELLOW.value)),
                else_=literal(Light.GREEN.value))


@functools.cache
def gaps_expression():
    """SQL true for a project with 资料缺项, agreeing with Project.gaps(): a fact its stage needs is not on record."""
    permit_done = exists().where(ApprovalItem.project_id == Project.id, ApprovalItem.status == ApprovalStatus.DONE,
                                 ApprovalItem.type_id == ApprovalItemType.id,
                                 ApprovalItemType.name == CONSTRUCTION_PERMIT)
    missing = {
        "sign_type": Project.sign_type.is_(None),
        "sign_date": Project.sign_date.is_(None),
        "project_code": or_(Project.project_code.is_(None), Project.project_code == ""),
        "actual_start": Project.actual_start.is_(None),
        "construction_permit_done": ~permit_done,
        "actual_completion": Project.actual_completion.is_(None),
        "actual_production": Project.actual_production.is_(None),
    }
    reached = case((Project.stage == Stage.PAUSED, Project.paused_from), else_=Project.stage)
    return or_(*(and_(reached.in_([stage for stage, needed in REQUIRED.items() if key in needed]), condition)
                 for key, condition in missing.items()))


def light_rank(light_sql):
    return case((light_sql == Light.RED.value, 2), (light_sql == Light.YELLOW.value, 1), else_=0)


@dataclass
class ListFilters:
    county: str | None = None
    park: int | None = None
    industry: int | None = None
    stage: Stage | None = None
    sign_type: SignType | None = None
    year: int | None = None
    major: bool = False
    light: Light | None = None
    q: str = ""
    sort: str = ""
    event: int | None = None  # the signing event (签约活动) that first signed the project
    gaps: bool = False  # only projects with 资料缺项


SORTS = {
    "updated": "最近更新",
    "light": "亮灯（红黄在前）",
    "investment": "总投资（大到小）",
    "sign_date": "签约日期（新到旧）",
    "name": "项目名称",
}


def default_sort(user: User) -> str:
    return "light" if user.role is Role.COUNTY else "updated"


def filtered_projects(user: User, filters: ListFilters, today: dt.date) -> tuple[Select, object]:
    """The user's visible projects narrowed by ``filters``, and the light expression used."""
    light = light_expression(today)
    query = visible_projects(user)
    if filters.county:
        query = query.where(Project.county_code == filters.county)
    if filters.park:
        query = query.where(Project.park_id == filters.park)
    if filters.industry:
        query = query.where(Project.industry_id == filters.industry)
    if filters.stage:
        query = query.where(Project.stage == filters.stage)
    if filters.sign_type:
        query = query.where(Project.sign_type == filters.sign_type)
    if filters.year:
        query = query.where(extract("year", Project.sign_date) == filters.year)
    if filters.major:
        query = query.where(Project.is_major.is_(True))
    if filters.light:
        query = query.where(light == filters.light.value)
    if filters.event:
        query = query.where(Project.signing_event_id == filters.event)
    if filters.gaps:
        query = query.where(gaps_expression())
    if filters.q:
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(or_(Project.name.ilike(pattern, escape="\\"),
                                Project.investor_name.ilike(pattern, escape="\\"),
                                Project.park_id.in_(park_ids_named(pattern))))  # a park's former names too
    return query, light


def signed_figure_columns() -> tuple:
    """The figures leaders are judged on, as aggregates over signed projects (the dashboard's definitions):
    签约项目数 ``signed``, 总投资 ``total_investment`` (万元); 开工率 = ``contracts_started`` ÷ ``contracts`` (first
    signed as a contract; converted agreements do not count); 投产率 = ``producing`` ÷ ``signed``."""
    contract_first = Project.signed_as == SignType.CONTRACT
    return (func.count(Project.id).label("signed"),
            func.coalesce(func.sum(Project.total_investment), 0).label("total_investment"),
            func.count(Project.id).filter(contract_first).label("contracts"),
            func.count(Project.id).filter(and_(contract_first, Project.actual_start.is_not(None)))
            .label("contracts_started"),
            func.count(Project.id).filter(Project.stage == Stage.PRODUCING).label("producing"))


def list_order(sort: str, light) -> list:
    """The ORDER BY of one of SORTS (the list's and the API's), ties broken by the newest id."""
    return {
        "updated": [Project.updated_at.desc()],
        "light": [light_rank(light).desc(), Project.updated_at.desc()],
        "investment": [Project.total_investment.desc()],
        "sign_date": [Project.sign_date.desc().nulls_last()],
        "name": [Project.name],
    }[sort] + [Project.id.desc()]


def list_page(user: User, filters: ListFilters, page: int, today: dt.date):
    """One page of rows (column values, each with its light, county and park names) plus the count and total
    investment of the whole filtered set, kept in the cache until the next write (or the next day: lights)."""
    query, light = filtered_projects(user, filters, today)
    sort = filters.sort if filters.sort in SORTS else default_sort(user)
    order = list_order(sort, light)
    key = cache.entry_key("projects.list_totals", visible_scope(user), astuple(filters), today)
    count, total = cache.kept_here(key, lambda: tuple(db.session.execute(query.with_only_columns(
        func.count(), func.coalesce(func.sum(Project.total_investment), 0))).one()))
    pages = max(1, -(-count // PAGE_SIZE))
    page = min(max(1, page), pages)
    window = query.order_by(*order).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    if sort != "light":
        # The page's ids first, then the light of those fifty only: SQLite computes a selected expression for every
        # row an OFFSET skips, and the light's EXISTS over milestones made page 150 twice as slow as page 1.
        window = (select(Project).where(Project.id.in_(window.with_only_columns(Project.id)))
                  .order_by(*order).limit(PAGE_SIZE))
    rows = db.session.execute(
        window.with_only_columns(Project.id, Project.name, Project.is_major, Project.investor_name, Project.stage,
                                 Project.sign_type, Project.total_investment, Project.sign_date,
                                 County.name.label("county_name"), Park.name.label("park_name"),
                                 type_coerce(light, enum_type(Light)).label("light"))
        .join(County, County.code == Project.county_code).outerjoin(Park, Park.id == Project.park_id)).all()
    return {"rows": rows, "count": count, "total": total, "page": page, "pages": pages, "sort": sort}


def sign_years(user: User) -> list[int]:
    year = extract("year", Project.sign_date)
    query = visible_projects(user).with_only_columns(year).where(Project.sign_date.is_not(None)).distinct()
    return sorted((int(y) for y in db.session.scalars(query)), reverse=True)


def picker_choices(user: User, *, keep_park: int | None = None) -> dict[str, list[tuple]]:
    """(value, label) pairs for the list's, the map's and the dashboard's pickers: the user's counties, the parks
    in use (and ``keep_park``, a retired one already asked for), the industries, the years the user's projects
    were signed in and the signing events. Kept in the cache per scope until the next write: five queries a page become none."""
    choices = cache.kept_here(cache.entry_key("projects.picker_choices", visible_scope(user)), lambda: {
        "counties": [(county.code, county.name) for county in counties_for(user)],
        "parks": [(park.id, park.name) for park in parks_in_order()],
        "industries": [(industry.id, industry.name) for industry in industries()],
        "years": [(year, f"{year}年") for year in sign_years(user)],
        "events": rules.choices("signing_event_id")})
    if keep_park and all(park_id != keep_park for park_id, _name in choices["parks"]):
        choices = {**choices, "parks": [(park.id, park.name) for park in parks_in_order(keep=keep_park)]}
    return choices


def lit_projects(user: User, today: dt.date, lights=(Light.RED, Light.YELLOW), *, leader_id: int | None = None,
                 limit: int = 50):
    """Projects with the given lights (red first), with their light."""
    light = light_expression(today)
    query = visible_projects(user).add_columns(light.label("light"))
    if lights:
        query = query.where(light.in_([value.value for value in lights]))
    if leader_id is not None:
        query = query.where(Project.hooked_leader_id == leader_id)
    query = (query.order_by(light_rank(light).desc(), Project.updated_at.desc(), Project.id)
             .options(selectinload(Project.county)).limit(limit))
    return [(project, Light(value)) for project, value in db.session.execute(query)]


def gap_projects(user: User, *, limit: int = 20) -> tuple[list[Project], int]:
    """The user's visible projects with 资料缺项 (most recently updated first, at most ``limit``), and how many."""
    query = visible_projects(user).where(gaps_expression())
    count = db.session.scalar(query.with_only_columns(func.count()))
    rows = db.session.scalars(query.order_by(Project.updated_at.desc(), Project.id).limit(limit)
                              .options(selectinload(Project.county))).all()
    return list(rows), count


def data_completeness() -> dict[str, tuple[int, int]]:
    """资料完整率 per county, city-wide (numbers only): county code → (projects past 在谈 and not 终止, how many
    of them have no 资料缺项)."""
    reached = case((Project.stage == Stage.PAUSED, Project.paused_from), else_=Project.stage)
    query = (select(Project.county_code, func.count(), func.sum(case((gaps_expression(), 0), else_=1)))
             .where(reached.in_([stage for stage, needed in REQUIRED.items() if needed]))
             .group_by(Project.county_code))
    return {code: (total, int(complete or 0)) for code, total, complete in db.session.execute(query)}


def park_summary(user: User, park_id: int) -> dict:
    """How many of the user's visible projects sit in the park, by stage, and their investment."""
    rows = db.session.execute(visible_projects(user).where(Project.park_id == park_id)
                              .with_only_columns(Project.stage, func.count(), func.coalesce(func.sum(Project.total_investment), 0))
                              .group_by(Project.stage)).all()
    by_stage = {Stage(stage): (count, total) for stage, count, total in rows}
    return {"by_stage": [(stage, *by_stage[stage]) for stage in Stage if stage in by_stage],
            "count": sum(count for count, _ in by_stage.values()),
            "total": sum((total for _, total in by_stage.values()), 0)}


def projects_left_outside(park: Park, county_code: str) -> list[Dependant]:
    """Every project in ``park`` whose county is not ``county_code``: what the park's move there would leave behind
    (an administrator's check: all counties)."""
    rows = db.session.execute(select(Project.id, Project.name, County.name)
                              .join(County, Project.county_code == County.code)
                              .where(Project.park_id == park.id, Project.county_code != county_code)
                              .order_by(Project.id))
    return [Dependant(f"project:{pid}", "项目", name, county, url_for("projects.detail", project_id=pid))
            for pid, name, county in rows]


def projects_to_review(user: User, park_id: int) -> list[Project]:
    """The user's projects in the park that are not in the park's county (its county changed since)."""
    return list(db.session.scalars(visible_projects(user).join(Park, Project.park_id == Park.id)
                                   .where(Park.id == park_id, Project.county_code != Park.county_code)
                                   .options(selectinload(Project.county)).order_by(Project.name)))


def approval_item_or_404(project: Project, item_id: int) -> ApprovalItem:
    item = db.session.get(ApprovalItem, item_id)
    if item is None or item.project_id != project.id:
        raise NotFound()
    return item


def milestone_or_404(project: Project, milestone_id: int) -> Milestone:
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or milestone.project_id != project.id:
        raise NotFound()
    return milestone


def approval_items_of(project: Project) -> Select:
    """A project's approval items in the project page's order."""
    return (select(ApprovalItem).where(ApprovalItem.project_id == project.id)
            .order_by(ApprovalItem.position, ApprovalItem.id).options(joinedload(ApprovalItem.type)))


def milestones_of(project: Project) -> Select:
    return select(Milestone).where(Milestone.project_id == project.id).order_by(Milestone.planned_date, Milestone.id)


def approval_types() -> list[ApprovalItemType]:
    return list(db.session.scalars(select(ApprovalItemType).order_by(ApprovalItemType.position)))


def leader_choices() -> list[tuple[int, str]]:
    """Enabled leaders, a project's 挂钩领导 picker: read on every form, since accounts never key the cache."""
    return [(user_id, display_name or username) for user_id, display_name, username in db.session.execute(
        select(User.id, User.display_name, User.username).where(User.role == Role.LEADER, User.is_enabled)
        .order_by(User.display_name, User.username))]


def form_choices(user: User, *, keep_park: int | None = None, keep_node: int | None = None) -> dict[str, list]:
    """(value, label) pairs for the project form's pickers: the user's counties, the parks and chain nodes in use
    (and the retired ones the project already has), the industries, the signing events, and the leaders. All but
    the leaders are kept in the cache until the next write: eight queries a form become one."""
    def build():
        industries = industries_with_chains(keep_node=keep_node)
        return {"counties": [(county.code, county.name) for county in counties_for(user)],
                "parks": [(park.id, f"{park.county.name} · {park.name}") for park in parks_by_county(keep=keep_park)],
                "industries": [(industry.id, industry.name) for industry in industries],
                "chain_nodes": [(node.id, f"{industry.name} · {chain.name} · {node.name}")
                                for industry in industries for chain in industry.chains for node in chain.nodes],
                "events": rules.choices("signing_event_id")}
    key = cache.entry_key("projects.form_choices", visible_scope(user), keep_park, keep_node)
    return {**cache.kept_here(key, build), "leaders": leader_choices()}
