"""Forms of the alert page; the rules live in ``alerts/actions.py`` and the modules it calls."""

from django import forms

from hotline.forms import NamedRequired


class MergeForm(NamedRequired, forms.Form):
    parent = forms.ChoiceField(label="主工单", choices=[], help_text="其余工单逐张并入主工单，无法并入的会列出原因")
    note = forms.CharField(label="并单说明", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, orders=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", "请选择主工单")] + [
            (str(o.pk), f"{o.number} {o.title[:30]}（{o.get_state_display()}）") for o in orders
        ]
