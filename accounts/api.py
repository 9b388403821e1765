from ninja import Router, Schema

router = Router(tags=["账户"])


class MeOut(Schema):
    username: str
    full_name: str
    role: str
    role_label: str
    unit_code: str
    unit_name: str
    is_unit_manager: bool


@router.get("", response=MeOut, summary="当前用户")
def me(request):
    user = request.auth
    return MeOut(
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        role_label=user.get_role_display(),
        unit_code=user.unit.code,
        unit_name=user.unit.name,
        is_unit_manager=user.is_unit_manager,
    )
