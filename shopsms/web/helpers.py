"""What small views share."""

from flask import render_template, request


def render(page, partial=None, **context):
    """The whole page, or only its partial when htmx asks for it (Hypermedia Systems)."""
    if partial and request.headers.get("HX-Request") == "true":
        return render_template(partial, **context)
    return render_template(page, **context)
