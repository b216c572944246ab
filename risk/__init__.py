"""Risk profiling (questionnaire, five-dimension scoring, automatic profiling) and suitability rules."""
