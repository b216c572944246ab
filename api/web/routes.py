"""The relationship managers' pages: login, worklist (`/rm`), client review, printable report (HTML, PDF)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from api import repositories
from api.auth import Principal, Role, check_customer_access
from api.clock import business_today
from api.deps import DbSession, State
from api.errors import ApiError
from api.schemas.common import ID_PATTERN, CustomerId
from api.web import session as web_session
from api.web.i18n import DISCLOSURES, LANGUAGES, Translator, translator
from api.web.review import Review, build_review
from api.web.views import review_charts
from api.worklist import worklist

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(prefix="/rm", include_in_schema=False)

PAGE_SIZE = 50
REPORT_KINDS = ("checkup", "proposal")
MAX_AMOUNT = 1_000_000_000.0


def page_language(request: Request) -> Translator:
    lang = request.query_params.get("lang") or request.cookies.get(web_session.LANGUAGE_COOKIE)
    return translator(lang)


Lang = Annotated[Translator, Depends(page_language)]
PageCaller = Annotated[Principal, Depends(web_session.page_principal)]
Amount = Annotated[float | None, Query(ge=100.0, le=MAX_AMOUNT, description="proposal amount, yuan")]


def url_for_lang(request: Request, lang: str) -> str:
    params = dict(request.query_params)
    params["lang"] = lang
    return f"{request.url.path}?{urlencode(params)}"


def render(request: Request, tr: Translator, name: str, context: dict[str, Any], status: int = 200,
           principal: Principal | None = None) -> HTMLResponse:
    other = next(code for code in LANGUAGES if code != tr.lang)
    response = templates.TemplateResponse(request, name, {
        "tr": tr, "t": tr.t, "label": tr.label, "lang": tr.lang, "principal": principal,
        "switch_url": url_for_lang(request, other), "disclosures": [tr.both(d) for d in DISCLOSURES], **context,
    }, status_code=status)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(web_session.LANGUAGE_COOKIE, tr.lang, max_age=365 * 24 * 3600, samesite="lax",
                            path="/rm")
    return response


# --- login / logout ---------------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, tr: Lang, next: str = "/rm", reason: str | None = None) -> HTMLResponse:
    message = tr.t("session_expired") if reason in ("token_expired", "invalid_token") else None
    return render(request, tr, "login.html", {"next": web_session.safe_next(next), "error": message})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, tr: Lang, token: Annotated[str, Form(max_length=8192)] = "",
          next: Annotated[str, Form(max_length=512)] = "/rm") -> Response:
    target = web_session.safe_next(next)
    if not web_session.same_origin(request):
        return render(request, tr, "login.html", {"next": target, "error": tr.t("login_failed")}, status=403)
    response = RedirectResponse(target, status_code=303)
    try:
        web_session.start_session(request, response, token)
    except web_session.PageForbiddenError:
        return render(request, tr, "login.html", {"next": target, "error": tr.t("login_role")}, status=403)
    except ApiError as err:
        return render(request, tr, "login.html", {"next": target, "error": f"{tr.t('login_failed')}: {err.message}"},
                      status=401)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse("/rm/login", status_code=303)
    web_session.end_session(response)
    return response


# --- worklist ---------------------------------------------------------------------------------------

@router.get("", response_class=HTMLResponse)
def worklist_page(request: Request, state: State, session: DbSession, caller: PageCaller, tr: Lang,
                  q: Annotated[str, Query(max_length=64)] = "",
                  flag: Annotated[str, Query(max_length=32)] = "",
                  level: Annotated[str, Query(pattern=r"^(C[1-5])?$")] = "",
                  page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                  rm_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None) -> HTMLResponse:
    if caller.role is Role.RM:
        rm_id = caller.sub
    context: dict[str, Any] = {"q": q, "flag": flag, "level": level, "rm_id": rm_id, "items": [], "total": 0,
                               "page": 1, "pages": 1, "today": business_today(),
                               "universe_as_of": str(state.universe.as_of)}
    if rm_id is None:
        return render(request, tr, "worklist.html", {**context, "ops_pick_rm": True}, principal=caller)
    items = worklist(state, session, rm_id, context["today"])
    shown = [c for c in items if (not q or q.lower() in c.customer_id.lower())
             and (not flag or flag in c.flags) and (not level or c.level == level)]
    pages = max(1, math.ceil(len(shown) / PAGE_SIZE))
    page = min(page, pages)
    def page_url(n: int) -> str:
        return f"/rm?{urlencode({k: v for k, v in dict(request.query_params, page=n).items() if v})}"

    context.update(items=shown[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], total=len(items), matched=len(shown),
                   page=page, pages=pages, flags_seen=sorted({f for c in items for f in c.flags}), page_url=page_url)
    return render(request, tr, "worklist.html", context, principal=caller)


# --- client review and report -----------------------------------------------------------------------

def client_review(state: Any, session: Session, caller: Principal, customer_id: str, amount: float | None,
                  today: date) -> Review:
    """The review of a client the caller may see; anything else is 'not found' (no hint whether it exists)."""
    if repositories.get_customer(session, customer_id) is None:
        raise web_session.PageNotFoundError(customer_id)
    try:
        check_customer_access(session, caller, customer_id)
    except ApiError:
        raise web_session.PageNotFoundError(customer_id) from None
    return build_review(state, session, customer_id, today, amount)


@router.get("/clients/{customer_id}", response_class=HTMLResponse)
def client_page(request: Request, customer_id: CustomerId, state: State, session: DbSession, caller: PageCaller,
                tr: Lang, amount: Amount = None) -> HTMLResponse:
    review = client_review(state, session, caller, customer_id, amount, business_today())
    return render(request, tr, "client.html", {"r": review, "charts": review_charts(review, tr)}, principal=caller)


@router.get("/clients/{customer_id}/report", response_class=HTMLResponse)
def report_page(request: Request, customer_id: CustomerId, state: State, session: DbSession, caller: PageCaller,
                tr: Lang, kind: Annotated[str, Query(pattern="^(checkup|proposal)$")] = "checkup",
                amount: Amount = None) -> HTMLResponse:
    review = client_review(state, session, caller, customer_id, amount, business_today())
    return render(request, tr, "report.html", report_context(review, tr, kind, caller), principal=caller)


@router.get("/clients/{customer_id}/report.pdf")
def report_pdf(request: Request, customer_id: CustomerId, state: State, session: DbSession, caller: PageCaller,
               tr: Lang, kind: Annotated[str, Query(pattern="^(checkup|proposal)$")] = "checkup",
               amount: Amount = None) -> Response:
    from api.web.pdf import html_to_pdf

    review = client_review(state, session, caller, customer_id, amount, business_today())
    context = report_context(review, tr, kind, caller)
    html = templates.get_template("report.html").render({
        "request": request, "tr": tr, "t": tr.t, "label": tr.label, "lang": tr.lang, "principal": caller,
        "disclosures": [tr.both(d) for d in DISCLOSURES], "switch_url": "", **context})
    title = f"{context['title']} {customer_id}"
    pdf = html_to_pdf(html, title)
    filename = f"{kind}-{customer_id}-{review.generated_at.date().isoformat()}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"})


def report_context(review: Review, tr: Translator, kind: str, caller: Principal) -> dict[str, Any]:
    title = tr.t("report_checkup" if kind == "checkup" else "report_proposal")
    return {"r": review, "charts": review_charts(review, tr), "kind": kind, "title": title,
            "rm_name": caller.sub if caller.role is Role.RM else ", ".join(review.rm_ids) or "—"}
