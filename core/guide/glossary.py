"""The glossary: one line per term that is not obvious, read by the guide and by the forms' field hints."""
from __future__ import annotations

from typing import NamedTuple


class Term(NamedTuple):
    term: str
    text: str


# One place for every definition: a form field's hint (its description) and the guide's glossary both read it,
# so the two never say different things. The key is the guide's anchor (#term-<key>).
TERMS: dict[str, Term] = {
    "sign_type": Term("签约类型（协议 / 合同）",
                      "协议项目签的是框架协议，合同项目签的是正式投资合同；两类分开统计，协议签了合同后在项目页办理“协议转合同”。"),
    "total_investment": Term("总投资（万元）", "项目计划投资总额，单位万元（1 亿元 = 10000 万元）；增资项目只填增资部分。"),
    "fixed_asset_investment": Term("固定资产投资（万元）",
                                   "总投资中用于土地、厂房、设备等固定资产的部分，不含铺底流动资金；不超过总投资。"),
    "investment_completed": Term("完成投资（万元）",
                                 "当月实际完成的固定资产投资额；系统把各月相加得到累计完成投资。"),
    "funds_arrived": Term("到位资金（万元）",
                          "投资方当月实际到账、用于本项目的资金（自有资金、银行贷款等），与完成投资分开填报。"),
    "investment_baseline": Term("月报启用前的累计完成投资",
                                "开始在本系统填月报之前已经完成的投资合计；之后每月只填当月数，系统自动累加。"),
    "project_code": Term("项目代码",
                         "投资项目在线审批监管平台赋予的 24 位代码，形如 2026-350404-26-03-00012A（年份-三明区划-部门-类别-序号）；进入“前期”阶段起必填。"),
    "credit_code": Term("统一社会信用代码", "投资企业营业执照上的 18 位代码，用于识别同一投资方的重复线索和项目。"),
    "capital_increase": Term("增资项目", "已落地企业追加投资的项目；总投资只计增资额，避免与原项目重复统计。"),
    "signing_event": Term("签约活动",
                          "如 6·18、9·8、进博会等集中签约；一个项目只计入首次签约的那次活动。"),
    "major": Term("重大项目", "实行“一对一”跟踪的项目：须明确挂钩领导、责任单位和联络员。"),
    "hooked_leader": Term("挂钩领导", "负责协调该项目的市领导；项目的问题可“提请挂钩领导协调”。"),
    "responsible_unit": Term("责任单位", "对项目推进负总责的单位（如县区政府、园区管委会）。"),
    "liaison": Term("联络员", "责任单位指定的日常联系人，负责填报进展。"),
    "land_area": Term("用地（亩）", "项目需要或已取得的用地面积，单位亩（1 亩 ≈ 666.7 平方米）。"),
    "free_land": Term("可供地（亩）", "园区内已具备供地条件（规划、征迁、配套到位）、可随时出让给新项目的土地面积。"),
    "factory_space": Term("标准厂房（m²）", "园区内已建成、可直接出租或出售给企业的标准厂房面积。"),
    "planned_area": Term("规划面积（亩）", "园区经批准的规划总面积。"),
    "developed_area": Term("已开发面积（亩）", "规划面积中已完成开发建设（含已供地）的部分。"),
    "approval_item": Term("前期手续", "开工前须办结的审批事项：立项备案/核准、用地预审与选址、供地、规划许可、环评、节能审查、安评、施工许可等。"),
    "milestone": Term("节点", "项目自定的关键事项及计划完成日期；过期未完成即亮红灯。"),
    "light": Term("亮灯（红 / 黄 / 绿）", "红灯：有节点或计划日期已过期未完成；黄灯：15 天内到期；绿灯：按计划推进。"),
    "data_gap": Term("资料缺项（待补充）", "项目已到某一阶段、但该阶段应有的资料（如签约日期、项目代码、施工许可）尚未录入，多见于按台账导入的项目。"),
    "blocker": Term("存在问题", "推进中遇到、须由某个部门解决的问题；登记时写明责任部门，必要时提请挂钩领导协调。"),
    "chain_status": Term("强链 / 弱链 / 缺链", "强链：有龙头企业或已开工的项目；弱链：有项目但都在签约或前期；缺链：两者都没有。招商重点是补链、强链、延链。"),
}


def hint(key: str) -> str:
    """A form field's one-line hint: the glossary's text for that term."""
    return TERMS[key].text
