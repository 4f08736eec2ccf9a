"""The parks' forms: a park and the reference rows administrators keep, a park's position, boundary and capacity."""
from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import DecimalField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation

from core.auth.reference_data import EXTENT
from core.forms import AreaField, DateField, Form, OptionalSelectField, at_most
from core.guide.glossary import hint
from core.inputs import id_value

from .models import CapacityMeasure, ParkKind


def finite(form, field) -> None:
    """Stop NaN and infinities here: NumberRange cannot compare a signalling NaN ("sNaN")."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation("请输入有效的数字。")


class PositionForm(Form):
    lat = DecimalField("纬度（北纬，WGS-84）", places=6, validators=[
        DataRequired("请输入纬度。"), finite,
        NumberRange(EXTENT["lat_min"], EXTENT["lat_max"],
                    f"纬度须在 {EXTENT['lat_min']}–{EXTENT['lat_max']} 之间（三明市范围）。")])
    lon = DecimalField("经度（东经，WGS-84）", places=6, validators=[
        DataRequired("请输入经度。"), finite,
        NumberRange(EXTENT["lon_min"], EXTENT["lon_max"],
                    f"经度须在 {EXTENT['lon_min']}–{EXTENT['lon_max']} 之间（三明市范围）。")])
    note = StringField("位置来源说明",
                       validators=[Length(max=200, message="位置来源说明不能超过 200 个字符。")])
    submit = SubmitField("保存位置")


def _area(measure: CapacityMeasure) -> AreaField:
    # The field refuses what no park could hold; the service also checks the figures against each other.
    return AreaField(measure.label, validators=[Optional()], unit=measure.unit, description=hint(measure.value))


class CapacityForm(Form):
    """A park's capacity as confirmed on one day; a blank figure keeps its current value and date."""

    planned_area = _area(CapacityMeasure.PLANNED_AREA)
    developed_area = _area(CapacityMeasure.DEVELOPED_AREA)
    free_land = _area(CapacityMeasure.FREE_LAND)
    factory_space = _area(CapacityMeasure.FACTORY_SPACE)
    confirmed_on = DateField("核实日期", validators=[InputRequired("请填写核实日期。")])
    note = StringField("核实依据（如 实地核查、自然资源局台账）", validators=[at_most(200, "核实依据")])
    submit = SubmitField("保存核实结果")

    def values(self) -> dict[CapacityMeasure, object]:
        return {measure: self[measure.value].data for measure in CapacityMeasure}


class BoundaryForm(Form):
    file = FileField("园区边界（GeoJSON，≤ 2 MiB）", validators=[FileRequired("请选择要上传的 GeoJSON 文件。")])
    submit = SubmitField("上传边界")


def _label(row, text: str) -> str:
    """A choice's label; a retired row is offered only where already chosen, and says so."""
    return text + ("（已撤销）" if row.is_retired else "")


class ParkForm(Form):
    name = StringField("园区名称", validators=[DataRequired("请填写园区名称。"), at_most(64, "园区名称")])
    county_code = SelectField("所在县区", choices=[], validators=[DataRequired("请选择所在县区。")])
    zone_id = OptionalSelectField("所属集聚区", coerce=id_value, choices=[], blank="（不属于集聚区）")
    industry_id = OptionalSelectField("产业", coerce=id_value, choices=[], blank="（综合）")
    kind = SelectField("类型", choices=[], validators=[DataRequired("请选择园区类型。")])
    description = TextAreaField("简介", validators=[at_most(2000, "简介")])
    # The county move the administrator confirmed, with the projects it leaves behind (see editing.move_token).
    confirm_move = HiddenField()
    submit = SubmitField("保存")

    def set_choices(self, *, counties, zones, industries) -> None:
        self.county_code.choices = [(c.code, c.name) for c in counties]
        self.zone_id.set_choices((z.id, _label(z, z.name)) for z in zones)
        self.industry_id.set_choices((i.id, i.name) for i in industries)
        self.kind.choices = ParkKind.choices()

    def park_data(self) -> dict:
        return {"name": self.name.data, "county_code": self.county_code.data, "zone_id": self.zone_id.data,
                "industry_id": self.industry_id.data, "kind": ParkKind(self.kind.data),
                "description": self.description.data}


class ZoneForm(Form):
    name = StringField("集聚区名称", validators=[DataRequired("请填写名称。"), at_most(64, "集聚区名称")])
    layout = StringField("布局（如 一区四园）", validators=[DataRequired("请填写布局。"), at_most(32, "布局")])
    industry_id = SelectField("产业", coerce=id_value, choices=[])
    description = TextAreaField("说明", validators=[at_most(2000, "说明")])
    submit = SubmitField("保存")

    def set_choices(self, *, industries, **_) -> None:
        self.industry_id.choices = [(i.id, i.name) for i in industries]


class ChainForm(Form):
    industry_id = SelectField("产业", coerce=id_value, choices=[])
    name = StringField("产业链名称", validators=[DataRequired("请填写名称。"), at_most(64, "产业链名称")])
    submit = SubmitField("保存")

    def set_choices(self, *, industries, **_) -> None:
        self.industry_id.choices = [(i.id, i.name) for i in industries]


class ChainNodeForm(Form):
    chain_id = SelectField("产业链", coerce=id_value, choices=[])
    name = StringField("环节名称", validators=[DataRequired("请填写名称。"), at_most(64, "环节名称")])
    submit = SubmitField("保存")

    def set_choices(self, *, chains, **_) -> None:
        self.chain_id.choices = [(c.id, _label(c, f"{c.industry.name} · {c.name}")) for c in chains]


class EnterpriseForm(Form):
    name = StringField("企业名称", validators=[DataRequired("请填写企业名称。"), at_most(128, "企业名称")])
    role = StringField("角色（如 龙头企业、骨干企业）", validators=[at_most(32, "角色")])
    industry_id = OptionalSelectField("产业", coerce=id_value, choices=[])
    park_id = OptionalSelectField("所在园区", coerce=id_value, choices=[])
    chain_node_id = OptionalSelectField("所在产业链环节（有此企业的环节为强链）", coerce=id_value, choices=[])
    note = TextAreaField("说明", validators=[at_most(2000, "说明")])
    submit = SubmitField("保存")

    def set_choices(self, *, industries, parks, nodes, **_) -> None:
        self.industry_id.set_choices((i.id, i.name) for i in industries)
        self.park_id.set_choices((p.id, _label(p, f"{p.county.name} · {p.name}")) for p in parks)
        self.chain_node_id.set_choices(
            (n.id, _label(n, f"{n.chain.industry.name} · {n.chain.name} · {n.name}")) for n in nodes)
