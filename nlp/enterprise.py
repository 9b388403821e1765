"""涉企 detection: the text speaks for a business, or the caller has filed enterprise requests before."""

import re
from dataclasses import dataclass

from nlp.plain import plain
from orders.models import WorkOrder

SELF = (
    "我公司",
    "本公司",
    "我司",
    "我厂",
    "本厂",
    "我们公司",
    "我们企业",
    "本企业",
    "我店",
    "本店",
    "我们店",
    "我是个体户",
    "商户",
)
TOPICS = (
    "营业执照",
    "税务登记",
    "纳税",
    "企业开办",
    "招投标",
    "政府采购",
    "拖欠工程款",
    "融资",
    "工商登记",
    "经营许可",
)
COMPANY = re.compile(r"([\u4e00-\u9fa5A-Za-z0-9（）()]{2,30}?(?:有限责任公司|股份有限公司|有限公司|集团|工厂))")


@dataclass
class EnterpriseHint:
    reason: str
    name: str = ""
    credit_code: str = ""


def detect(text: str, caller_phone: str = "") -> EnterpriseHint | None:
    if caller_phone:
        earlier = (
            WorkOrder.objects.filter(caller_phone=caller_phone, is_enterprise=True)
            .exclude(enterprise_name="")
            .order_by("-received_at")
            .values_list("enterprise_name", "enterprise_credit_code")
            .first()
        )
        if earlier:
            return EnterpriseHint("该来电人此前以企业身份提出过诉求", *earlier)
    text = plain(text or "")
    phrase = next((p for p in SELF + TOPICS if p in text), None)
    if phrase is None:
        return None
    # the company's name follows "我公司…" without a break; cut the self-reference off first
    company = COMPANY.search(re.sub("|".join(SELF), "，", text)) if phrase in SELF else None
    return EnterpriseHint(f"内容提到“{phrase}”", company.group(1) if company else "")
