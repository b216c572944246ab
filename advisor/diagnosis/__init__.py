"""Wealth health check and holding diagnosis (财富体检 / 持仓诊断), for one customer and for millions.

- `diagnosis_context(universe)`: per-universe arrays (research, correlations, model portfolios), cached.
- `diagnose_customer(ctx, payload)`: one customer's full findings, scores and actions (JSON-ready dict).
- `diagnose_frames(ctx, customers, holdings)`: the batch report as a DataFrame, plus rejected rows.
- `advisor.diagnosis.batch.diagnose_files(...)`: Parquet to Parquet in bounded-memory chunks.
"""

from advisor.diagnosis.context import DiagnosisContext, ModelInputs, ResearchInputs, diagnosis_context
from advisor.diagnosis.engine import DiagnosisResult, diagnose_customer, diagnose_frames, prepare, run_rules
from advisor.diagnosis.rules import default_rules

__all__ = ["DiagnosisContext", "DiagnosisResult", "ModelInputs", "ResearchInputs", "default_rules",
           "diagnose_customer", "diagnose_frames", "diagnosis_context", "prepare", "run_rules"]
