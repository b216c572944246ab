"""A relationship manager's book for the page tests, built through the API as the bank's systems would.

`seed_book` works with FastAPI's TestClient and with an httpx client against a live server alike.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.conftest import answers_for

RM = "rm-pages"
OTHER_RM = "rm-elsewhere"
REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Book:
    rm: str
    calm: str  # moderate level, a low-risk holding
    mismatch: str  # cautious level, a high-risk holding
    mixed: str  # moderate level, several funds (charts have something to show)
    expired: str  # assessment expired: no strategy may be shown
    never: str  # never assessed
    foreign: str  # another RM's client


def seed_book(client, ops: dict[str, str], prefix: str, expire, customer) -> Book:
    """Customers, assessments and holdings for one RM (ids start with `prefix`); `expire(cid)` writes an
    assessment that expired yesterday straight into the database; `customer(cid)` gives that customer's auth
    headers (a customer answers the questionnaire themselves: ops may not, docs/api.md § Compliance)."""
    book = Book(rm=RM, calm=f"{prefix}-calm", mismatch=f"{prefix}-mismatch", mixed=f"{prefix}-mixed",
                expired=f"{prefix}-expired", never=f"{prefix}-never", foreign=f"{prefix}-foreign")
    funds = client.get("/v1/funds?limit=200", headers=ops).json()["items"]
    by_level = {lvl: [f["code"] for f in funds if f["risk_level"] == lvl] for lvl in ("R1", "R2", "R3", "R4", "R5")}
    qn = client.get("/v1/risk/questionnaire", headers=ops).json()
    cautious = {q["id"]: min(q["options"], key=lambda o: o["score"])["id"] for q in qn["questions"]}
    cautious.update({q["id"]: q["options"][2]["id"] for q in qn["questions"] if q["dimension"] == "basic"})
    for cid in (book.calm, book.mismatch, book.mixed, book.expired, book.never):
        response = client.put(f"/v1/customers/{cid}", headers=ops,
                              json={"rm_ids": [RM], "age": 45, "cash": 30_000, "monthly_expenses": 5_000,
                                    "horizon_years": 3})
        assert response.status_code == 200, response.text
    client.put(f"/v1/customers/{book.foreign}", headers=ops, json={"rm_ids": [OTHER_RM], "age": 50})
    moderate = answers_for(client, ops)
    for cid in (book.calm, book.mixed, book.foreign):  # customers answer for themselves (ops may not)
        assert client.post(f"/v1/customers/{cid}/risk-assessments", headers=customer(cid),
                           json={"answers": moderate}).status_code == 201
    assert client.post(f"/v1/customers/{book.mismatch}/risk-assessments", headers=customer(book.mismatch),
                       json={"answers": cautious}).status_code == 201
    expire(book.expired)
    holdings = {
        book.calm: [{"code": by_level["R1"][0], "amount": 20_000, "purchase_date": "2024-02-01"}],
        book.mismatch: [{"code": by_level["R5"][0], "amount": 80_000, "purchase_date": "2024-02-01"}],
        book.mixed: [{"code": by_level["R2"][0], "amount": 60_000, "purchase_date": "2023-06-01"},
                     {"code": by_level["R3"][1], "amount": 30_000, "purchase_date": "2024-03-15"},
                     {"code": by_level["R3"][0], "shares": 10_000, "purchase_date": "2025-01-10"},
                     {"code": by_level["R1"][0], "amount": 10_000, "purchase_date": "2025-09-01"}],
        book.expired: [{"code": by_level["R4"][0], "amount": 50_000, "purchase_date": "2023-01-05"}],
        book.foreign: [{"code": by_level["R2"][0], "amount": 10_000, "purchase_date": "2024-01-05"}],
    }
    for cid, lots in holdings.items():
        response = client.put(f"/v1/customers/{cid}/holdings", headers=ops, json={"holdings": lots})
        assert response.status_code == 200, response.text
    return book


def require_tool(name: str) -> str:
    """A command the page tests need (installed by scripts/browser.sh); skip locally, fail under CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found: run `bash scripts/browser.sh` (installs chromium, fonts-noto-cjk, poppler-utils)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def pdf_text(pdf: bytes, tmp_path: Path) -> tuple[int, str]:
    """(pages, text) of a PDF, read with poppler's pdfinfo and pdftotext."""
    require_tool("pdftotext")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    info = subprocess.run([require_tool("pdfinfo"), str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    text = subprocess.run([require_tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return pages, text
