"""The intake page's screen pop: polled every second, it shows who is calling the signed-in agent."""

from django.shortcuts import render

from accounts.permissions import role_required
from calls.events import current_call
from orders import queries
from orders.transitions import INTAKE_ROLES


@role_required(*INTAKE_ROLES)
def current(request):
    call = current_call(request.user)
    context = {"call": call}
    if call:
        history = list(queries.caller_history(call.caller))
        context.update(
            orders=history,
            name=next((o.caller_name for o in history if o.caller_name), ""),
            enterprise=next((o.enterprise_name for o in history if o.is_enterprise and o.enterprise_name), ""),
        )
    return render(request, "calls/_pop.html", context)
