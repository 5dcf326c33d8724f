"""What small views share."""

from flask import render_template, request


def render(page, partial=None, **context):
    """The whole page, or only its partial when htmx asks for it (Hypermedia Systems).
    htmx restoring a pushed URL after a history-cache miss also says HX-Request, but it
    wants the whole page."""
    headers = request.headers
    if (
        partial
        and headers.get("HX-Request") == "true"
        and headers.get("HX-History-Restore-Request") != "true"
    ):
        return render_template(partial, **context)
    return render_template(page, **context)
