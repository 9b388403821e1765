"""The public forms: what a citizen or an enterprise types on a phone, checked before anything is saved."""

from decimal import Decimal, InvalidOperation

from django import forms

from hotline.forms import NamedRequired
from orders.forms import MultipleFileField
from orders.models import Satisfaction
from orders.validators import MAX_ATTACHMENT_BYTES, attachment_error, credit_code_error, normalize_phone, phone_error

MAX_PHOTOS = 5
MAX_CONTENT = 5000


class SubmissionForm(NamedRequired, forms.Form):
    name = forms.CharField(label="姓名", max_length=50, required=False)
    phone = forms.CharField(
        label="手机号码", max_length=20, help_text="用于接收查询码和办理回访，不会公开",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )  # fmt: skip
    email = forms.EmailField(label="电子邮箱（选填）", required=False)
    title = forms.CharField(
        label="标题", max_length=100, widget=forms.TextInput(attrs={"placeholder": "一句话说明问题"})
    )
    content = forms.CharField(
        label="诉求内容", max_length=MAX_CONTENT,
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "请写清时间、地点和具体情况"}),
    )  # fmt: skip
    address = forms.CharField(label="事发地址", max_length=200, required=False)
    latitude = forms.CharField(label="纬度", max_length=20, required=False, widget=forms.HiddenInput)
    longitude = forms.CharField(label="经度", max_length=20, required=False, widget=forms.HiddenInput)
    photos = MultipleFileField(
        label="照片（选填）", required=False,
        help_text=f"最多 {MAX_PHOTOS} 张，JPG/PNG，每张不超过 {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB",
    )  # fmt: skip

    def clean_phone(self) -> str:
        phone = normalize_phone(self.cleaned_data["phone"])
        if reason := phone_error(phone):
            raise forms.ValidationError(reason)
        return phone

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("请填写标题")
        return title

    def clean_content(self) -> str:
        content = self.cleaned_data["content"].strip()
        if len(content) < 5:
            raise forms.ValidationError("请把问题写得具体一些（至少 5 个字）")
        return content

    def _coordinate(self, field: str, limit: int, label: str) -> Decimal | None:
        value = self.cleaned_data.get(field, "").strip()
        if not value:
            return None
        try:
            number = Decimal(value).quantize(Decimal("0.000001"))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or abs(number) > limit:
            raise forms.ValidationError(f"{label}应在 -{limit} 到 {limit} 之间")
        return number

    def clean_latitude(self) -> Decimal | None:
        return self._coordinate("latitude", 90, "纬度")

    def clean_longitude(self) -> Decimal | None:
        return self._coordinate("longitude", 180, "经度")

    def clean_photos(self) -> list[tuple[str, bytes, str]]:
        """Each photo read and checked by its size, extension and actual bytes; only images."""
        uploads = self.files.getlist("photos")
        if len(uploads) > MAX_PHOTOS:
            raise forms.ValidationError(f"最多上传 {MAX_PHOTOS} 张照片")
        photos, errors = [], []
        for upload in uploads:
            name = upload.name.replace("/", "_").replace("\\", "_")[:200]
            content = upload.read(MAX_ATTACHMENT_BYTES + 1)
            reason, content_type = attachment_error(name, len(content), content[:16])
            if not reason and not content_type.startswith("image/"):
                reason = "只能上传照片（JPG、PNG）"
            if reason:
                errors.append(f"{name}：{reason}")
            photos.append((name, content, content_type))
        if errors:
            raise forms.ValidationError(errors)
        return photos

    def submission_fields(self) -> dict:
        data = self.cleaned_data
        fields = ("name", "phone", "email", "title", "content", "address", "latitude", "longitude")
        return {f: data[f] for f in fields}


class EnterpriseForm(SubmissionForm):
    """亲清e线: an enterprise's request, with its name and unified social credit code."""

    enterprise_name = forms.CharField(label="企业名称", max_length=100)
    enterprise_credit_code = forms.CharField(label="统一社会信用代码", max_length=18, min_length=18)
    field_order = ["enterprise_name", "enterprise_credit_code", "name", "phone"]

    def clean_enterprise_credit_code(self) -> str:
        code = self.cleaned_data["enterprise_credit_code"].strip().upper()
        if reason := credit_code_error(code):
            raise forms.ValidationError(reason)
        return code

    def submission_fields(self) -> dict:
        data = self.cleaned_data
        return {
            **super().submission_fields(),
            "kind": "enterprise",
            "enterprise_name": data["enterprise_name"].strip(),
            "enterprise_credit_code": data["enterprise_credit_code"],
        }


class TrackForm(NamedRequired, forms.Form):
    code = forms.CharField(
        label="查询码", max_length=16, widget=forms.TextInput(attrs={"autocapitalize": "characters"})
    )
    phone_tail = forms.RegexField(
        label="手机号后四位", regex=r"^\d{4}$", error_messages={"invalid": "请输入手机号码的后四位数字"},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 4}),
    )  # fmt: skip

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip().upper()


class RatingForm(NamedRequired, forms.Form):
    rating = forms.ChoiceField(label="您对答复是否满意", choices=Satisfaction.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label="意见（选填）", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class DeclineForm(NamedRequired, forms.Form):
    reason = forms.CharField(label="不予受理理由", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
