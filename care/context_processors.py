from care import registry


def hall(request):
    user = getattr(request, "user", None)
    roles = user.roles if user is not None and user.is_authenticated else set()
    return {"user_roles": roles, "department_nav": registry.nav_for(roles)}
