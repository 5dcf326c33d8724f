"""« /sante »: health for load balancers and monitors. No login (it says nothing
private: ok or not, counts and ages), 200 when this node can serve and send, else 503."""

from flask import Blueprint, jsonify

from ..services import health

bp = Blueprint("health", __name__)


@bp.get("/sante")
def sante():
    healthy, details = health.check()
    response = jsonify(status="ok" if healthy else "degraded", **details)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
