def workspace(request):
    return {"workspace": getattr(request, "workspace", None), "membership": getattr(request, "membership", None)}
