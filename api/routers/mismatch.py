"""A customer's insistence on a fund above their level: the warning, then the recorded confirmation."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api import core, repositories
from api.auth import act_for_customer, check_customer_access
from api.deps import AssistedSession, Caller, DbSession, State
from api.errors import ApiError, responses
from api.models import MismatchAcknowledgement
from api.routers.proposals import valid_assessment
from api.schemas.common import CustomerId
from api.schemas.proposals import MismatchIn, MismatchOut

router = APIRouter(prefix="/v1", tags=["suitability"])


@router.post("/customers/{customer_id}/mismatch-acknowledgements", response_model=MismatchOut,
             status_code=status.HTTP_201_CREATED,
             responses={200: {"model": MismatchOut, "description": "acknowledged=false: the warning to show"},
                        **responses(401, 403, 404, 409, 413, 422)},
             summary="Warn about a product above the customer's level and record the customer's confirmation")
def acknowledge_mismatch(customer_id: CustomerId, body: MismatchIn, response: Response, state: State,
                         session: DbSession, caller: Caller, assisted_session: AssistedSession = None) -> MismatchOut:
    check_customer_access(session, caller, customer_id)  # anyone who may serve the customer may show the warning
    if body.acknowledged:  # recording the acknowledgement is the customer's own act
        act = act_for_customer(session, caller, customer_id, assisted_session, "acknowledge a risk mismatch")
    assessment = valid_assessment(session, customer_id)
    name = None
    if body.product_kind == "fund":
        level = core.product_level_of(state.universe, body.product_code)
        if body.product_level is not None and body.product_level != level:
            raise ApiError(422, "wrong_product_level",
                           f"body.product_level: fund {body.product_code} is R{level}, not R{body.product_level}",
                           {"field": "body.product_level"})
        name = str(state.universe.funds["name"].iloc[state.universe.code_index[body.product_code]])
    else:
        if body.product_level is None:
            raise ApiError(422, "validation_error", "body.product_level: required for wealth-management products",
                           {"field": "body.product_level"})
        level = body.product_level
    now = repositories.utcnow()
    warning = core.mismatch_confirmation(customer_id, assessment.level, level, body.product_code,
                                         body.product_kind, assessment.lowest_category, name, now)
    out = dict(customer_id=customer_id, product_code=body.product_code, product_kind=body.product_kind,
               customer_level=f"C{assessment.level}", product_level=f"R{level}", warning_zh=warning["text_zh"],
               warning_en=warning["text_en"])
    if not body.acknowledged:
        response.status_code = status.HTTP_200_OK
        return MismatchOut(recorded=False, **out)
    row = MismatchAcknowledgement(
        id=repositories.new_id(), customer_id=customer_id, assessment_id=assessment.id,
        product_code=body.product_code, product_kind=body.product_kind, customer_level=assessment.level,
        product_level=level, warning_version=warning["version"], warning_zh=warning["text_zh"],
        warning_en=warning["text_en"], channel=warning["channel"],
        questionnaire_version=assessment.questionnaire_version, universe_version=state.universe.version,
        created_by_role=str(caller.role), created_by=caller.sub, created_at=now, **act.columns())
    repositories.add_acknowledgement(session, row)
    session.commit()
    return MismatchOut(recorded=True, id=row.id, created_at=now, created_by=caller.sub, **act.columns(), **out)
