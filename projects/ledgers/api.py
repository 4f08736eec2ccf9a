"""The ledger export in the API: the same .xlsx as the ledger page's export, for the county the caller may see."""
from __future__ import annotations

from flask import Response
from flask_login import current_user

from core.api import base
from core.api.fields import Schema, Text
from core.auth.queries import resolve_county
from core.errors import InvalidInput

from . import export

blp = base.blueprint("ledgers", __name__, "台账", "项目推进台账导出（.xlsx），与“台账”页面的导出相同。")


class ExportArgs(Schema):
    county = Text("县区（代码或名称，2021 年前的旧区划亦可）；县区用户总是导出本县区", max_length=20,
                  example="350404")


@blp.get("/ledgers/export")
@blp.arguments(ExportArgs, location="query", as_kwargs=True)
@blp.response(200, {"type": "string", "format": "binary"}, content_type=export.XLSX,
              description="台账工作簿（.xlsx）：标题行、两行表头、每个项目一行、合计行",
              headers={"Content-Disposition": {"description": "附件文件名，如 attachment; filename=ledger-350404.xlsx",
                                               "schema": {"type": "string"}}})
def export_workbook(county: str | None = None):
    """导出台账

    令牌所属用户能看到的项目的推进台账（.xlsx），与“台账”页面的导出文件相同：县区用户总是本县区；其他角色可用 county
    只导出一个县区，不填为全市。county 不是已知县区时 422。"""
    asked = resolve_county(county) if county else None
    if county and asked is None:
        raise InvalidInput("未知的县区。", errors={"county": f"未知的县区：{county}。"})
    body, name = export.ledger_workbook(export.export_county(current_user, asked), user=current_user)
    return Response(body, mimetype=export.XLSX, headers={"Content-Disposition": f"attachment; filename={name}"})
