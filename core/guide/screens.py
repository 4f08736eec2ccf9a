"""The guide's screenshots: which page each shows, as whom, and the element the guide's text points at."""
from __future__ import annotations

from typing import NamedTuple

IMAGE_FOLDER = "help"  # under static/: `make docs` writes the pictures there, the guide shows them from there
WIDTHS = {"desktop": 1366, "phone": 390}


class Screen(NamedTuple):
    name: str  # the pictures are static/help/<name>-desktop.jpg and <name>-phone.jpg
    path: str  # "{project}" stands for a project the role may edit
    role: str  # whose view the picture shows (core.auth.models.Role values)
    selector: str  # one compound CSS selector (tag, #id, .class, [attr="value"]) the guide's text describes
    caption: str

    def image(self, width: str) -> str:
        return f"{IMAGE_FOLDER}/{self.name}-{width}.jpg"


SCREENS: dict[str, Screen] = {screen.name: screen for screen in (
    Screen("home", "/", "county", "#todo", "“待办”页：超时的线索、临期和过期的节点、本月待填的月报、未解决的问题。"),
    Screen("lead-new", "/leads/new", "commerce", "#investor_name", "登记招商线索：投资方、意向县区和园区、预计投资、线索来源。"),
    Screen("project", "/projects/{project}", "county", "#approvals", "项目页：阶段、开工竣工投产日期、前期手续、节点、存在问题和变更记录。"),
    Screen("photos", "/projects/{project}", "county", "#attachments", "现场照片与佐证材料：选择所证明的事项，拍照或选择文件上传；照片按日期排列。"),
    Screen("monthly", "/reports/monthly", "county", "#monthly-form", "月度进展：每个项目一行，填本月完成投资、到位资金和进展说明。"),
    Screen("ledger", "/ledgers/import", "county", 'a[href="/ledgers/sample.xlsx"]', "导入台账：先下载示例台账，按它的表头整理后上传预览。"),
    Screen("dashboard", "/dashboard", "leader", "#headline", "看板：上方八个指标，下方阶段漏斗、各县区填报和排名、红灯和久未更新的项目。"),
    Screen("map", "/map", "leader", "#map-frame", "地图：县区边界，每个园区一个圆（大小表示总投资），放大后显示各项目；可按县区、产业、阶段筛选。"),
    Screen("chains", "/chains", "commerce", ".chain-node", "产业链：每个环节标明强链、弱链或缺链，点开看项目、线索和可承接的园区。"),
    Screen("users", "/admin/users", "admin", "#username", "用户管理：新建账号、停用和启用账号。"),
    Screen("parks", "/parks/", "admin", 'a[href="/parks/new"]', "产业园区：按产业列出园区；管理员可新建、编辑、撤销园区。"),
)}
