"""Risk profiling (questionnaire, five-dimension scoring, automatic profiling) and suitability rules.

Modules, one concern each (rules documented in docs/risk-methodology.md):
- `levels` C1–C5; `config` the configurable numbers (`RiskConfig`); `facts` customer facts validation;
- `questionnaire` versioned questionnaire data (`risk/data/questionnaire_v*.json`); `answers_io` answer
  files (duplicate keys rejected) and KYC tables;
- `scoring.assess` questionnaire → `Assessment`; `rules` band / weakest-link / senior / lowest-category
  rules shared with `profiling` (vectorized automatic profiling of existing customers);
- `validity` expiry and re-assessment triggers; `suitability` C × R matrix, purchase decisions,
  whole-portfolio rating; `warnings` mismatch warning texts and confirmation records; `tiers` customer
  tiers by financial assets; `synthetic` synthetic KYC rows for benchmarks and tests.
"""
