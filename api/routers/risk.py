"""Risk questionnaire, assessments (append-only) and the current risk profile."""

from __future__ import annotations

from fastapi import APIRouter, status

from api import core, repositories
from api.auth import act_for_customer, check_customer_access
from api.deps import AssistedSession, Caller, DbSession, State
from api.errors import ApiError, responses
from api.models import RiskAssessment
from api.negotiation import ReferenceData
from api.schemas.common import CustomerId
from api.schemas.risk import AssessmentIn, AssessmentOut, QuestionnaireOut, RiskProfileOut

router = APIRouter(prefix="/v1", tags=["risk"])


@router.get("/risk/questionnaire", response_model=QuestionnaireOut, responses=responses(401),
            summary="The current risk questionnaire (zh / en), versioned")
def questionnaire(state: State, _caller: Caller, _reference: ReferenceData) -> dict:
    return state.cached("questionnaire_json", lambda: state.questionnaire.to_dict())


def assessment_out(row: RiskAssessment) -> AssessmentOut:
    return AssessmentOut(id=row.id, customer_id=row.customer_id, level=f"C{row.level}",
                         level_name_zh=row.result.get("level_name_zh"), score=row.score,
                         lowest_category=row.lowest_category, questionnaire_version=row.questionnaire_version,
                         assessed_at=repositories.as_utc(row.assessed_at), expires_on=row.expires_on,
                         created_at=repositories.as_utc(row.created_at), created_by=row.created_by,
                         created_by_role=row.created_by_role, acting_capacity=row.acting_capacity,
                         assisted_session_id=row.assisted_session_id, result=row.result)


@router.post("/customers/{customer_id}/risk-assessments", response_model=AssessmentOut,
             status_code=status.HTTP_201_CREATED, responses=responses(401, 403, 413, 422),
             summary="Score questionnaire answers and store the assessment (append-only)")
def create_assessment(customer_id: CustomerId, body: AssessmentIn, state: State, session: DbSession,
                      caller: Caller, assisted_session: AssistedSession = None) -> AssessmentOut:
    act = act_for_customer(session, caller, customer_id, assisted_session, "answer the risk questionnaire")
    if body.answers is None and not body.refused:
        raise ApiError(422, "validation_error", "body.answers: required unless refused is true",
                       {"field": "body.answers"})
    if body.answers is not None and body.refused:
        raise ApiError(422, "validation_error", "body.refused: a refusal carries no answers",
                       {"field": "body.refused"})
    now = repositories.utcnow()
    facts = body.facts.model_dump(exclude_none=True) if body.facts else None
    result = core.assess(body.answers, facts, state.questionnaire, customer_id, now)
    repositories.ensure_customer(session, customer_id)
    row = RiskAssessment(
        id=repositories.new_id(), customer_id=customer_id, level=int(str(result["level"]).lstrip("C")),
        score=float(result["score"]), lowest_category=bool(result["lowest_category"]), assessed_at=now,
        expires_on=core.parse_date(result["expires_on"]), questionnaire_version=str(result["questionnaire_version"]),
        answers=body.answers or {}, facts=facts or {}, result=result, created_by_role=str(caller.role),
        created_by=caller.sub, created_at=now, **act.columns())
    repositories.add_assessment(session, row)
    session.commit()
    return assessment_out(row)


@router.get("/customers/{customer_id}/risk-profile", response_model=RiskProfileOut,
            responses=responses(401, 403, 404), summary="Current level, expiry and flags")
def risk_profile(customer_id: CustomerId, session: DbSession, caller: Caller) -> RiskProfileOut:
    check_customer_access(session, caller, customer_id)
    row = repositories.latest_assessment(session, customer_id)
    if row is None:
        raise ApiError(404, "assessment_required", "no risk assessment on record for this customer",
                       {"customer_id": customer_id})
    flags = [str(f.get("code")) if isinstance(f, dict) else str(f) for f in row.result.get("flags", [])]
    expired = repositories.is_expired(row)
    if expired:
        flags = ["assessment_expired", *flags]
    return RiskProfileOut(customer_id=customer_id, assessment_id=row.id, level=f"C{row.level}",
                          level_name_zh=row.result.get("level_name_zh"), lowest_category=row.lowest_category,
                          score=row.score, assessed_at=repositories.as_utc(row.assessed_at),
                          expires_on=row.expires_on, expired=expired, flags=flags,
                          questionnaire_version=row.questionnaire_version)
