"""The editor's form of an article version and the reviewer's decision."""

from django import forms

from categories.models import Category
from hotline.forms import NamedRequired
from knowledge.models import Article, Kind
from knowledge.workflow import Draft
from org.models import Unit


class ArticleForm(NamedRequired, forms.Form):
    kind = forms.ChoiceField(label="类型", choices=[c for c in Kind.choices])
    title = forms.CharField(label="标题", max_length=200)
    summary = forms.CharField(
        label="答复口径", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="话务员直接答复来电人时念的标准口径",
    )  # fmt: skip
    body = forms.CharField(
        label="正文（Markdown）", max_length=50000, required=False, widget=forms.Textarea(attrs={"rows": 14}),
        help_text="办事指南请在“## 办理步骤”下用 1. 2. 3. 列出步骤；“## 内部提示”之后的内容不对公众显示",
    )  # fmt: skip
    categories = forms.ModelMultipleChoiceField(
        label="诉求分类", queryset=Category.objects.all(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )  # fmt: skip
    units = forms.ModelMultipleChoiceField(
        label="相关单位", queryset=Unit.objects.all(), required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    tags = forms.CharField(label="标签", max_length=200, required=False, help_text="以逗号分隔")
    is_enterprise = forms.BooleanField(label="涉企知识（企业语言）", required=False)
    is_public = forms.BooleanField(label="在公众常见问答中公开", required=False)
    valid_from = forms.DateField(label="生效日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    valid_to = forms.DateField(label="失效日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label="修改说明", max_length=500, required=False)

    @classmethod
    def initial_from(cls, source) -> dict:
        """Initial values from an article or a revision."""
        initial = {name: getattr(source, name) for name in Draft.__dataclass_fields__ if hasattr(source, name)}
        if isinstance(source, Article):
            initial["categories"] = list(source.categories.values_list("pk", flat=True))
            initial["units"] = list(source.units.values_list("pk", flat=True))
        else:
            initial["categories"], initial["units"] = source.category_ids, source.unit_ids
        initial.pop("note", None)
        return initial

    def draft(self) -> Draft:
        d = self.cleaned_data
        return Draft(
            kind=d["kind"], title=d["title"], summary=d["summary"], body=d["body"], tags=d["tags"],
            is_enterprise=d["is_enterprise"], is_public=d["is_public"], valid_from=d["valid_from"],
            valid_to=d["valid_to"], categories=list(d["categories"]), units=list(d["units"]), note=d["note"],
        )  # fmt: skip


class ReviewForm(NamedRequired, forms.Form):
    decision = forms.ChoiceField(label="审核结果", choices=[("approve", "通过并发布"), ("reject", "退回修改")])
    review_note = forms.CharField(label="审核意见", max_length=500, required=False)
