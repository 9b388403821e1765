"""The rule form of the admins' 要情规则 page; the checks themselves are ``UrgentRule.clean``."""

from django import forms

from hotline.forms import NamedRequired
from orders.models import Tag
from urgent.models import UrgentRule


class RuleForm(NamedRequired, forms.ModelForm):
    tags = forms.MultipleChoiceField(
        label="标签", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="“标签工单红色预警”规则：工单带有其中任一标签且为红色预警时推送。",
    )  # fmt: skip

    class Meta:
        model = UrgentRule
        fields = ["name", "kind", "is_active", "tags", "threshold", "keywords", "note"]
        widgets = {"keywords": forms.Textarea(attrs={"rows": 3}), "threshold": forms.NumberInput(attrs={"min": 2})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tags"].choices = [(tag.code, tag.name) for tag in Tag.objects.order_by("code")]
        self.fields["tags"].error_messages["invalid_choice"] = "标签不存在：%(value)s。"
        self.fields["kind"].error_messages["invalid_choice"] = "规则类型无效：%(value)s。"
        self.fields["name"].error_messages["required"] = "请填写规则名称。"
