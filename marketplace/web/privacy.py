"""Privacy pages (Datenschutz, blueprint `privacy`, /datenschutz): the DSGVO Art. 15 export of one case.

    GET /datenschutz/fall/<id>/auskunft.json    everything held about the case, as a JSON download

Planners and the caseworkers of the case's team (the same people who may open the case);
every export is audited ("export", with the case).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort
from flask_login import current_user

from ..access import can_view_young_person, ensure, require_role
from ..db import get_session
from ..models import Role, YoungPerson
from ..privacy import export_case

bp = Blueprint("privacy", __name__, url_prefix="/datenschutz")


@bp.route("/fall/<int:young_person_id>/auskunft.json")
@require_role(Role.caseworker, Role.planner)
def case_export(young_person_id: int) -> Response:
    """Download the Art. 15 export of one case (audited)."""
    session = get_session()
    yp = session.get(YoungPerson, young_person_id)
    if yp is None:
        abort(404)
    ensure(can_view_young_person(current_user, yp))
    document = export_case(session, young_person_id=yp.id, actor=current_user)
    session.commit()
    body = json.dumps(document, ensure_ascii=False, indent=2)
    filename = f"auskunft-{yp.pseudonym}.json"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
