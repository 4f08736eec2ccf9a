"""The upload form (what a file supports, the files) and the removal form (a reason)."""
from __future__ import annotations

from flask_wtf.file import MultipleFileField
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired

from core.forms import Form, at_most

PROJECT_TARGET = "project"


class UploadForm(Form):
    target = SelectField("用于")  # choices: set_targets, always
    # Two pickers, one field name: the camera (several shots on phones that allow it) and any accepted file.
    camera = MultipleFileField("拍照上传", render_kw={"accept": "image/*", "capture": "environment"})
    files = MultipleFileField("选择照片或文件", render_kw={
        "accept": "image/jpeg,image/png,image/webp,.jpg,.jpeg,.png,.webp,.pdf,.doc,.docx,.xls,.xlsx"})
    submit = SubmitField("上传")

    def set_targets(self, project) -> None:
        """The project and each of its milestones, approval items and blockers (ids of this project only)."""
        choices = [(PROJECT_TARGET, "项目（现场照片、合同等）")]
        choices += [(f"milestone:{m.id}", f"节点：{m.name}") for m in project.milestones]
        choices += [(f"approval_item:{a.id}", f"前期手续：{a.type.name}") for a in project.approvals]
        choices += [(f"blocker:{b.id}", f"存在问题：{b.description[:30]}") for b in getattr(project, "blockers", [])]
        self.target.choices = choices


class RemoveForm(Form):
    reason = TextAreaField("删除原因", validators=[DataRequired("请填写删除原因。"), at_most(500, "删除原因")])
    submit = SubmitField("删除")
