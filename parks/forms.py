"""The parks' forms: correcting a park's position and uploading its boundary."""
from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import DecimalField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, StopValidation

from core.auth.reference_data import EXTENT
from core.forms import Form


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


class BoundaryForm(Form):
    file = FileField("园区边界（GeoJSON，≤ 2 MiB）", validators=[FileRequired("请选择要上传的 GeoJSON 文件。")])
    submit = SubmitField("上传边界")
