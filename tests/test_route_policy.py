"""Route policy: every endpoint × method × role gets exactly the access decision the table says."""
from __future__ import annotations

import datetime as dt
import functools
import io
import json
from dataclasses import dataclass, field
from typing import NamedTuple

import pytest
from flask import Flask, url_for
from sqlalchemy import select

from core import clock
from core.auth import services as auth_services
from core.auth import tokens
from core.auth.models import Role, User
from core.db import db
from parks import editing
from parks.models import Chain, ChainNode, Park, Zone
from projects import services as project_services
from projects.attachments import services as attachment_services
from projects.events import services as event_services
from projects.leads.models import Lead
from projects.ledgers import importer
from projects.ledgers.staging import stage_upload
from projects.models import ApprovalItem, ApprovalItemType, Project
from projects.reports import services as report_services
from projects.stages import SignType
from tests.factories import DEFAULT_PASSWORD, make_lead, make_project, make_user, rename_park
from tests.prepared import PreparedRows, prepare
from tests.projects.attachments import files as attachment_files
from tests.projects.ledgers.files import ledger_bytes
from tests.projects.ledgers.files import row as ledger_row
from tests.projects.web import changed_tables, new_client, path_of, project_form_data, snapshot

ANONYMOUS = "anonymous"
ROLES = (ANONYMOUS, Role.COMMERCE.value, Role.COUNTY.value, Role.LEADER.value, Role.ADMIN.value)
HOME = "/"
LOGIN = "/login"
IGNORED_ENDPOINTS = {"static", "bootstrap.static"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}
API_PREFIX = "/api/v1/"
# The map page's fetches under /api/v1 read the login session too, so they are pages' as well as the API's; every
# other endpoint there (the token-only resources, the document and its docs page) is tests/api/test_policy.py's.
SESSION_READABLE = {"maps.parks_geojson", "maps.projects_geojson", "maps.counties_geojson", "chains.api"}
OWN_COUNTY, OTHER_COUNTY = "350404", "350481"  # 三元区 (the county official's), 永安市


@dataclass(frozen=True)
class Policy:
    """Who gets past an endpoint's guard, and what an allowed user gets for a minimal request.

    access: public (anyone) | login (the login page: logged-in users are sent home) |
            reader (any logged-in user) | editor (commerce, county, admin; leaders 403) |
            commerce (commerce and admin; county officials and leaders 403) | admin |
            park_keeper (admin and the park's county officials; commerce and leaders 403) |
            api_reader (any logged-in user; anonymous 401, not the login page: a call under /api/v1);
            a dict gives it per method
    ok:     per method, (status, redirect path or None) for an allowed user's empty form
    scoped: the URL names a county's row (a project or a lead): a county official gets 404 for
            another county's, whatever the verb
    saves:  the tables an allowed user's empty form may change (every other request changes nothing)
    """

    access: str | dict[str, str]
    ok: dict[str, tuple[int, str | None]]
    scoped: bool = False
    saves: tuple[str, ...] = ()

    def access_for(self, method: str) -> str:
        return self.access if isinstance(self.access, str) else self.access[method]


PAGE = (200, None)
REJECTED = (400, None)  # through the guard, then refused for the empty form (no version, no data)
READ_WRITE = {"GET": "reader", "POST": "editor"}
PREVIEW_ONLY = {"ledgers.upload"}  # POST endpoints whose valid payload previews instead of saving
SHOWS_SECRET = {"account.index", "account.user_tokens"}  # a new API token's secret is on the POST's own response

POLICY: dict[str, Policy] = {
    "home.index": Policy("reader", {"GET": PAGE}),
    "core.healthz": Policy("public", {"GET": PAGE}),
    "guide.index": Policy("reader", {"GET": PAGE}),  # the user guide: every role reads all of it
    "auth.login": Policy("login", {"GET": PAGE, "POST": PAGE}),
    "auth.logout": Policy("public", {"POST": (302, LOGIN)}, saves=("user_session",)),  # ends this session
    "auth.users": Policy("admin", {"GET": PAGE, "POST": REJECTED}),
    "auth.disable": Policy("admin", {"POST": (302, "/admin/users")}, saves=("app_user", "audit_entry")),
    "auth.enable": Policy("admin", {"POST": (302, "/admin/users")}, saves=("app_user", "audit_entry")),
    "account.index": Policy("reader", {"GET": PAGE, "POST": REJECTED}),  # every role keeps its own API tokens
    "account.revoke": Policy("reader", {"POST": (302, "/account")}),  # no token named: back, nothing revoked
    "account.user_tokens": Policy("admin", {"GET": PAGE, "POST": REJECTED}),
    "account.revoke_user_token": Policy("admin", {"POST": (302, None)}),  # back to that account's tokens
    "parks.index": Policy("reader", {"GET": PAGE}),
    "parks.detail": Policy("reader", {"GET": PAGE}),
    "parks.set_position": Policy("admin", {"POST": REJECTED}),
    "parks.upload_boundary": Policy("admin", {"POST": REJECTED}),
    "parks.confirm_capacity": Policy("park_keeper", {"POST": REJECTED}),  # the world's park is in the own county
    "parks.new": Policy("admin", {"GET": PAGE, "POST": REJECTED}),
    "parks.edit": Policy("admin", {"GET": PAGE, "POST": REJECTED}),
    "parks.retire": Policy("admin", {"POST": (302, None)}, saves=("park", "audit_entry", "data_version")),  # back to the park's page
    "parks.restore": Policy("admin", {"POST": (302, None)}, saves=("park", "audit_entry", "data_version")),  # the world's retired park
    "reference.index": Policy("admin", {"GET": PAGE}),
    "reference.new": Policy("admin", {"GET": PAGE, "POST": REJECTED}),
    "reference.edit": Policy("admin", {"GET": PAGE, "POST": REJECTED}),
    "reference.retire": Policy("admin", {"POST": (302, None)}, saves=("zone", "audit_entry", "data_version")),  # to the zone's page
    "reference.restore": Policy("admin", {"POST": (302, None)}, saves=("zone", "audit_entry", "data_version")),  # its retired zone
    "projects.index": Policy("reader", {"GET": PAGE}),
    "projects.new": Policy("editor", {"GET": PAGE, "POST": REJECTED}),
    "projects.detail": Policy("reader", {"GET": PAGE}, scoped=True),
    "projects.edit": Policy("editor", {"GET": PAGE, "POST": REJECTED}, scoped=True),
    "projects.change_stage": Policy("editor", {"POST": REJECTED}, scoped=True),
    "projects.convert": Policy("editor", {"POST": REJECTED}, scoped=True),
    "projects.update_approval": Policy("editor", {"POST": REJECTED}, scoped=True),
    "projects.add_milestone": Policy("editor", {"POST": REJECTED}, scoped=True),
    "projects.update_milestone": Policy("editor", {"POST": REJECTED}, scoped=True),
    "blockers.add_blocker": Policy("editor", {"POST": REJECTED}, scoped=True),
    "blockers.escalate_blocker": Policy("editor", {"POST": REJECTED}, scoped=True),
    "blockers.close_blocker": Policy("editor", {"POST": REJECTED}, scoped=True),
    "attachments.upload": Policy("editor", {"POST": REJECTED}, scoped=True),
    "attachments.remove": Policy("editor", {"POST": REJECTED}, scoped=True),
    "attachments.serve": Policy("reader", {"GET": PAGE}, scoped=True),
    "attachments.thumbnail": Policy("reader", {"GET": PAGE}, scoped=True),
    "leads.index": Policy("reader", {"GET": PAGE}),
    "leads.new": Policy("editor", {"GET": PAGE, "POST": REJECTED}),
    "leads.detail": Policy("reader", {"GET": PAGE}, scoped=True),
    "leads.edit": Policy("editor", {"GET": PAGE, "POST": REJECTED}, scoped=True),
    "leads.add_follow_up": Policy("editor", {"POST": REJECTED}, scoped=True),
    "leads.change_status": Policy("editor", {"POST": REJECTED}, scoped=True),
    "leads.convert": Policy("editor", {"POST": REJECTED}, scoped=True),
    "events.index": Policy("reader", {"GET": PAGE}),
    "events.detail": Policy("reader", {"GET": PAGE}),
    "events.new": Policy("commerce", {"GET": PAGE, "POST": REJECTED}),
    "events.edit": Policy("commerce", {"GET": PAGE, "POST": REJECTED}),
    "reports.monthly": Policy(READ_WRITE, {"GET": PAGE, "POST": REJECTED}),  # POST with nothing filled in
    "approval_types.approval_types": Policy("admin", {"GET": PAGE, "POST": REJECTED}),
    "maps.index": Policy("reader", {"GET": PAGE}),
    "maps.frame": Policy("reader", {"GET": PAGE}),
    "maps.export": Policy("reader", {"GET": PAGE}),
    "maps.parks_geojson": Policy("api_reader", {"GET": PAGE}),
    "maps.projects_geojson": Policy("api_reader", {"GET": PAGE}),
    "maps.counties_geojson": Policy("api_reader", {"GET": PAGE}),
    "maps.vendor": Policy("public", {"GET": PAGE}),  # Leaflet's own files, as public as /static
    "ledgers.upload": Policy("editor", {"GET": PAGE, "POST": REJECTED}),  # POST: the dry-run preview, saves nothing
    "ledgers.confirm": Policy("editor", {"POST": REJECTED}),
    "ledgers.batches": Policy("editor", {"GET": PAGE}),
    "ledgers.sample": Policy("editor", {"GET": PAGE}),
    "ledgers.revert": Policy("admin", {"POST": (302, "/ledgers/batches")},
                             saves=("project", "approval_item", "project_event", "import_batch", "audit_entry",
                                    "data_version")),
    "ledgers.export": Policy("reader", {"GET": PAGE}),
    "dashboard.index": Policy("reader", {"GET": PAGE}),
    "briefing.index": Policy("reader", {"GET": PAGE}),  # the .xlsx download
    "chains.index": Policy("reader", {"GET": PAGE}),
    "chains.node": Policy("reader", {"GET": PAGE}),
    "chains.gaps": Policy("reader", {"GET": PAGE}),
    "chains.gaps_export": Policy("reader", {"GET": PAGE}),
    "chains.api": Policy("api_reader", {"GET": PAGE}),
}


class Outcome(NamedTuple):
    status: int
    location: str | None  # the redirect's path, when there is one to check
    allowed: bool  # through the guard (the view ran), as opposed to refused by it


def post_endpoints() -> list[str]:
    return sorted(endpoint for endpoint, policy in POLICY.items() if "POST" in policy.ok)


def expected(policy: Policy, method: str, role: str, foreign: bool) -> Outcome:
    access = policy.access_for(method)
    if access == "public":
        return Outcome(*policy.ok[method], allowed=True)
    if access == "login":
        return Outcome(*policy.ok[method], allowed=True) if role == ANONYMOUS else Outcome(302, HOME, True)
    if role == ANONYMOUS:
        return Outcome(401, None, allowed=False) if access == "api_reader" else Outcome(302, LOGIN, allowed=False)
    if access == "admin" and role != Role.ADMIN.value:
        return Outcome(403, None, allowed=False)
    if access == "commerce" and role not in (Role.COMMERCE.value, Role.ADMIN.value):
        return Outcome(403, None, allowed=False)
    if access == "park_keeper" and role not in (Role.COUNTY.value, Role.ADMIN.value):
        return Outcome(403, None, allowed=False)
    if access == "editor" and role == Role.LEADER.value:
        return Outcome(403, None, allowed=False)
    if policy.scoped and foreign and role == Role.COUNTY.value:
        return Outcome(404, None, allowed=False)
    return Outcome(*policy.ok[method], allowed=True)


@dataclass
class World:
    """Ids of real rows: users per role, a park, a signing event, and per county (own, other) a
    project with its items and a lead."""

    app: Flask
    user_ids: dict[str, int] = field(default_factory=dict)  # role -> id
    spare_id: int = 0  # an enabled account an admin may disable
    dormant_id: int = 0  # a disabled account an admin may enable
    own_token_id: int = 0  # the admin's own API token
    spare_token_id: int = 0  # an API token of the spare account
    park_id: int = 0
    retired_park_id: int = 0  # a retired park an admin may restore
    zone_id: int = 0
    retired_zone_id: int = 0
    event_id: int = 0
    project_ids: dict[bool, int] = field(default_factory=dict)  # foreign? -> id
    permit_ids: dict[bool, int] = field(default_factory=dict)
    milestone_ids: dict[bool, int] = field(default_factory=dict)
    blocker_ids: dict[bool, int] = field(default_factory=dict)
    attachment_ids: dict[bool, int] = field(default_factory=dict)  # a photo on each county's project
    lead_ids: dict[bool, int] = field(default_factory=dict)
    batch_id: int = 0  # a ledger import batch (one created project) an admin may revert
    staged_sha: str = ""  # a ledger upload previewed by the admin, awaiting confirmation
    node_id: int = 0  # the chain node the projects and leads are on

    @property
    def users(self) -> dict[str, User]:
        """The users per role, loaded in this test's session: the world is built once for many tests."""
        return {role: db.session.get(User, user_id) for role, user_id in self.user_ids.items()}

    def url(self, endpoint: str, foreign: bool = False) -> str:
        args = {"project_id": self.project_ids[foreign], "item_id": self.permit_ids[foreign],
                "milestone_id": self.milestone_ids[foreign], "blocker_id": self.blocker_ids[foreign],
                "attachment_id": self.attachment_ids[foreign],
                "lead_id": self.lead_ids[foreign], "event_id": self.event_id,
                "park_id": self.retired_park_id if endpoint == "parks.restore" else self.park_id, "kind": "zones",
                "row_id": self.retired_zone_id if endpoint == "reference.restore" else self.zone_id,
                "user_id": self.dormant_id if endpoint == "auth.enable" else self.spare_id,
                "package": "leaflet", "filename": "leaflet.js", "batch_id": self.batch_id, "node_id": self.node_id}
        with self.app.test_request_context():
            rule_args = next(r.arguments for r in self.app.url_map.iter_rules() if r.endpoint == endpoint)
            extra = {"county": OWN_COUNTY} if endpoint == "reports.monthly" else {}  # the page one county reports on
            return url_for(endpoint, **{name: args[name] for name in rule_args}, **extra)


class PreparedWorld(NamedTuple):
    """A world built once, and every row of the database as it stood then."""

    world: World
    rows: PreparedRows

    def start(self) -> World:
        """The world in this test's empty tables, its ledger upload staged again (a confirm consumes it)."""
        self.rows.insert()
        with self.world.app.test_request_context():
            stage_upload(staged_ledger(), self.world.user_ids[Role.ADMIN.value])
        return self.world


def build_world(app) -> World:
    """The world's rows, made through the services on top of the reference data."""
    w = World(app)
    for role in ROLES[1:]:
        w.user_ids[role] = make_user(role, county=OWN_COUNTY if role == Role.COUNTY.value else None).id
    w.spare_id = make_user(Role.COMMERCE).id
    dormant = make_user(Role.COMMERCE)
    auth_services.disable_user(dormant)
    db.session.commit()
    w.dormant_id = dormant.id
    w.own_token_id = tokens.create_token(w.users[Role.ADMIN.value], "探测令牌")[0].id
    w.spare_token_id = tokens.create_token(db.session.get(User, w.spare_id), "探测服务令牌")[0].id
    db.session.commit()
    park = db.session.scalar(select(Park).where(Park.county_code == OWN_COUNTY).order_by(Park.id))
    w.park_id = park.id
    admin = w.users[Role.ADMIN.value]
    retired_park = db.session.scalar(select(Park).where(Park.county_code == OTHER_COUNTY).order_by(Park.id))
    rename_park(retired_park, retired_park.name + "（原名）", by=admin)  # a former name: park_alias
    editing.retire(retired_park, by=admin)
    w.retired_park_id = retired_park.id
    w.zone_id = db.session.scalar(select(Zone.id).order_by(Zone.id))
    retired_zone = editing.save_entry(Zone, None, {"name": "探测已撤销集聚区", "layout": "一区一园",
                                                   "industry_id": park.industry_id}, by=admin)
    editing.retire(retired_zone, by=admin)
    w.retired_zone_id = retired_zone.id
    db.session.commit()
    commerce = w.users[Role.COMMERCE.value]
    w.event_id = event_services.save_signing_event(None, name="6·18 海峡项目成果交易会", date=dt.date(2025, 6, 18),
                                                     place="福州", organiser="省政府", county_code=None, notes="",
                                                     by=commerce).id
    db.session.commit()
    node = db.session.scalar(select(ChainNode).join(Chain).where(Chain.industry_id == park.industry_id)
                             .order_by(Chain.position, ChainNode.position))
    w.node_id = node.id
    on_node = {"industry_id": park.industry_id, "chain_node_id": node.id}
    for foreign, county in ((False, OWN_COUNTY), (True, OTHER_COUNTY)):
        project = make_project(by=commerce, county_code=county, sign_type=SignType.AGREEMENT, **on_node)
        milestone = project_services.add_milestone(project, name="土地摘牌", version=project.version, by=commerce,
                                                   planned_date=clock.today() + dt.timedelta(days=40))
        blocker = report_services.add_blocker(project, category="land", description="用地指标未落实",
                                               department="自然资源局", due_date=None, escalated=False,
                                               version=project.version, by=commerce)
        db.session.commit()
        w.project_ids[foreign] = project.id
        w.milestone_ids[foreign] = milestone.id
        w.blocker_ids[foreign] = blocker.id
        w.permit_ids[foreign] = db.session.scalar(
            select(ApprovalItem.id).join(ApprovalItemType)
            .where(ApprovalItem.project_id == project.id, ApprovalItemType.name == "施工许可"))
        w.lead_ids[foreign] = make_lead(by=commerce, county_code=county, investor_name=f"探测线索{county}有限公司",
                                        **on_node).id
        with app.test_request_context():
            [photo], _written = attachment_services.upload(project, attachment_services.Target(),
                                                           [("现场.jpg", attachment_files.photo())], by=commerce)
        db.session.commit()
        w.attachment_ids[foreign] = photo.id
    w.batch_id = importer.import_ledger(ledger_bytes([ledger_row(name="探测导入项目")]), by=commerce).batch.id
    db.session.commit()
    with app.test_request_context():
        w.staged_sha = stage_upload(staged_ledger(), w.user_ids[Role.ADMIN.value])
    return w


@pytest.fixture(scope="module")
def prepared_world(app, reference) -> PreparedWorld:
    return PreparedWorld(*prepare(app, lambda: build_world(app), *reference))


@pytest.fixture
def world(prepared_world) -> World:
    """The module's world, from its prepared rows: every test starts from the same rows and leaves none behind."""
    return prepared_world.start()


@functools.cache
def staged_ledger() -> bytes:
    return ledger_bytes([ledger_row(name="探测待确认项目")])


@functools.cache
def ledger_upload() -> bytes:
    return ledger_bytes([ledger_row(name="探测上传项目")])


BOUNDARY = json.dumps({"type": "Polygon", "coordinates": [[[117.60, 26.25], [117.66, 26.25], [117.66, 26.30],
                                                           [117.60, 26.25]]]}).encode()


def valid_payload(endpoint: str, w: World, foreign: bool = False) -> dict:
    """A form that saves something when an allowed user posts it: what a missing guard would let through."""
    today = clock.today()
    project = db.session.get(Project, w.project_ids[foreign])
    lead = db.session.get(Lead, w.lead_ids[foreign])
    park, zone = db.session.get(Park, w.park_id), db.session.get(Zone, w.zone_id)
    version, lead_version = str(project.version), str(lead.version)
    row = f"p{project.id}-"
    return {
        "auth.login": lambda: {"username": w.users[Role.ADMIN.value].username, "password": DEFAULT_PASSWORD},
        "auth.logout": lambda: {},
        "auth.users": lambda: {"username": "route_probe", "display_name": "探测", "role": "commerce", "county": "",
                               "password": "probe-password-1", "confirm": "probe-password-1"},
        "auth.disable": lambda: {},
        "auth.enable": lambda: {},
        "account.index": lambda: {"name": "探测新令牌", "days": "30"},
        "account.revoke": lambda: {"token_id": str(w.own_token_id)},
        "account.user_tokens": lambda: {"name": "探测新服务令牌", "read_only": "y", "days": "30"},
        "account.revoke_user_token": lambda: {"token_id": str(w.spare_token_id)},
        "parks.set_position": lambda: {"lat": "26.3012", "lon": "117.6234", "note": "实地核对"},
        "parks.upload_boundary": lambda: {"file": (io.BytesIO(BOUNDARY), "boundary.geojson")},
        "parks.confirm_capacity": lambda: {"planned_area": "3000", "developed_area": "1800", "free_land": "260",
                                           "factory_space": "20000", "confirmed_on": str(today), "note": "实地核查"},
        "parks.new": lambda: {"name": "探测新园区", "county_code": OWN_COUNTY, "kind": "industrial"},
        "parks.edit": lambda: {"name": park.name + "（新）", "county_code": park.county_code, "kind": park.kind.value,
                               "zone_id": str(park.zone_id or ""), "industry_id": str(park.industry_id or "")},
        "parks.retire": lambda: {},
        "parks.restore": lambda: {},
        "reference.new": lambda: {"name": "探测新集聚区", "layout": "一区两园", "industry_id": str(zone.industry_id)},
        "reference.edit": lambda: {"name": zone.name + "（新）", "layout": zone.layout,
                                   "industry_id": str(zone.industry_id), "description": zone.description},
        "reference.retire": lambda: {},
        "reference.restore": lambda: {},
        "projects.new": lambda: {"version": "0", "name": "探测新项目", "investor_name": "探测投资有限公司",
                                 "county_code": OWN_COUNTY, "total_investment": "5000", "sign_type": "contract",
                                 "sign_date": "2025-04-01"},
        "projects.edit": lambda: project_form_data(project, name=project.name + "（改）"),
        "projects.change_stage": lambda: {"version": version, "to_stage": "paused", "reason": "资金未到位",
                                          "resume_date": str(today + dt.timedelta(days=30))},
        "projects.convert": lambda: {"version": version, "contract_date": str(today)},
        "projects.update_approval": lambda: {"version": version, "status": "in_progress", "planned_date": "",
                                             "done_date": "", "document_no": "明审〔2026〕1号"},
        "projects.add_milestone": lambda: {"version": version, "name": "设备进场",
                                           "planned_date": str(today + dt.timedelta(days=20)), "note": ""},
        "projects.update_milestone": lambda: {"version": version, "planned_date": str(today + dt.timedelta(days=50)),
                                              "actual_date": str(today)},
        "blockers.add_blocker": lambda: {"version": version, "category": "funding", "description": "配套资金未到位",
                                         "department": "财政局"},
        "blockers.escalate_blocker": lambda: {"version": version},
        "blockers.close_blocker": lambda: {"version": version, "closing_note": "指标已落实"},
        "attachments.upload": lambda: {"target": "project",
                                       "files": (io.BytesIO(attachment_files.photo(color=(10, 20, 30))), "新照片.jpg")},
        "attachments.remove": lambda: {"reason": "拍错了项目"},
        "leads.new": lambda: {"version": "0", "investor_name": "探测新线索有限公司", "source": "visit",
                              "county_code": OWN_COUNTY},
        "leads.edit": lambda: {"version": lead_version, "investor_name": lead.investor_name,
                               "source": lead.source.value, "county_code": lead.county_code, "notes": "补充备注"},
        "leads.add_follow_up": lambda: {"date": str(today), "kind": "phone", "summary": "电话沟通投资意向"},
        "leads.change_status": lambda: {"version": lead_version, "status": "assessing"},
        "leads.convert": lambda: {"version": lead_version, "name": "线索转来的项目", "county_code": lead.county_code,
                                  "total_investment": "6000", "sign_type": "contract", "sign_date": str(today)},
        "events.new": lambda: {"name": "9·8 投洽会", "date": "2025-09-08", "place": "厦门"},
        "events.edit": lambda: {"name": "6·18 海峡项目成果交易会", "date": "2025-06-18", "place": "福州海峡会展中心"},
        "reports.monthly": lambda: {f"{row}version": version, f"{row}investment": "120", f"{row}funds_arrived": "80",
                                    f"{row}note": "厂房基础施工"},
        "approval_types.approval_types": lambda: {"name": "消防审查"},
        "ledgers.upload": lambda: {"file": (io.BytesIO(ledger_upload()), "台账.xlsx")},
        "ledgers.confirm": lambda: {"sha256": w.staged_sha, "filename": "台账.xlsx"},
        "ledgers.revert": lambda: {},
    }[endpoint]()


def is_page_rule(rule) -> bool:
    """A rule of the pages (this table's), not of the token API (tests/api/test_policy.py's)."""
    return not rule.rule.startswith(API_PREFIX) or rule.endpoint in SESSION_READABLE


def accepted_methods(app) -> dict[str, set[str]]:
    methods: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in IGNORED_ENDPOINTS and is_page_rule(rule):
            methods.setdefault(rule.endpoint, set()).update(set(rule.methods) - IGNORED_METHODS)
    return methods


def test_every_endpoint_has_a_policy_entry(app):
    methods = accepted_methods(app)
    assert set(methods) == set(POLICY), "a route without a policy entry (or an entry without a route)"
    for endpoint, accepted in methods.items():
        assert accepted == set(POLICY[endpoint].ok), f"{endpoint}: methods {sorted(accepted)} not all in the table"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(POLICY))
def test_route_access(app, world, endpoint, role):
    policy = POLICY[endpoint]
    client = new_client(app, world.users.get(role))
    for method in sorted(policy.ok):
        for foreign in ((False, True) if policy.scoped else (False,)):
            want = expected(policy, method, role, foreign)
            url = world.url(endpoint, foreign)
            # A refused request carries a complete, valid form: if the guard were missing it would save.
            data = valid_payload(endpoint, world, foreign) if method == "POST" and not want.allowed else {}
            before = snapshot()
            response = client.open(url, method=method, data=data)
            response.close()  # a streamed file (the vendor assets) holds its file open until closed
            where = f"{method} {url} as {role}"
            assert response.status_code == want.status, f"{where}: {response.status_code}, expected {want.status}"
            if want.location is not None:
                assert path_of(response) == want.location, f"{where}: redirected to {path_of(response)}"
            may_change = set(policy.saves) if want.allowed else set()
            changed = set(changed_tables(before, snapshot()))
            assert changed <= may_change, f"{where} changed {sorted(changed - may_change)}"
            if may_change and role != ANONYMOUS:
                assert changed == may_change, f"{where} saved nothing"


def test_county_official_gets_404_for_another_countys_item_under_own_project(app, world):
    client = new_client(app, world.users[Role.COUNTY.value])
    own = world.project_ids[False]
    before = snapshot()
    for endpoint, url in (("projects.update_approval", f"/projects/{own}/approvals/{world.permit_ids[True]}"),
                          ("projects.update_milestone", f"/projects/{own}/milestones/{world.milestone_ids[True]}"),
                          ("attachments.remove", f"/projects/{own}/attachments/{world.attachment_ids[True]}/remove")):
        response = client.post(url, data=valid_payload(endpoint, world, foreign=False))
        assert response.status_code == 404, url
    assert changed_tables(before, snapshot()) == []


@pytest.mark.parametrize("endpoint", [e for e in post_endpoints() if e not in ("auth.login", "auth.logout")])
def test_valid_payloads_save_when_csrf_is_off(app, world, endpoint):
    """The control for the CSRF test below (and for the refusals above): each payload really saves."""
    client = new_client(app, world.users[Role.ADMIN.value])
    before = snapshot()
    response = client.post(world.url(endpoint), data=valid_payload(endpoint, world))
    if endpoint in PREVIEW_ONLY:  # a dry run: it must get through and offer the confirmation, saving nothing
        assert response.status_code == 200 and "确认导入" in response.get_data(as_text=True), endpoint
        assert changed_tables(before, snapshot()) == []
        return
    if endpoint in SHOWS_SECRET:  # the secret is shown on this page, once: no redirect to lose it in
        assert response.status_code == 200 and tokens.PREFIX in response.get_data(as_text=True), endpoint
        assert changed_tables(before, snapshot()), f"{endpoint} saved nothing"
        return
    assert response.status_code == 302, f"{endpoint}: {response.status_code}"
    assert changed_tables(before, snapshot()), f"{endpoint} saved nothing"


def test_login_and_logout_payloads_work_when_csrf_is_off(app, world):
    client = new_client(app, world.users[Role.ADMIN.value])
    assert path_of(client.post("/logout")) == LOGIN
    assert path_of(client.get("/")) == LOGIN, "logout did not end the session"
    response = client.post(LOGIN, data=valid_payload("auth.login", world))
    assert response.status_code == 302 and client.get("/").status_code == 200
