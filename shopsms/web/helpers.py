"""What small views share."""

from flask import render_template, request


def render(page, partial=None, **context):
    """The whole page, or only its partial when htmx asks for it (Hypermedia Systems).
    htmx restoring a pushed URL after a history-cache miss also says HX-Request, but it
    wants the whole page."""
    if partial and request.htmx and not request.htmx.history_restore_request:
        return render_template(partial, **context)
    return render_template(page, **context)
