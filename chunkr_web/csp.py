"""A Content-Security-Policy for every page the dashboard serves: scripts only from our own origin (no inline script,
no eval), so markup that slips into a page cannot run; frames, plugins and foreign form targets are refused.

Styles allow inline `style` attributes: the viewer places every box with one (page percentages). htmx is told not to
evaluate code or inject its own <style> (base.html's htmx-config), which these rules would block anyway. A response
that sets its own policy (user files, served sandboxed by views/assets.py) keeps it.
"""

from __future__ import annotations

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response and response.get("Content-Type", "").startswith("text/html"):
            response["Content-Security-Policy"] = POLICY
        return response
