"""Mutual-insurance claims (职工医疗互助保障), run by the hall itself: plans with versioned
rules, members' cover, claims computed by the rules, review with four eyes, payment batches.
The same rooms as a department app: models, rules, services, selectors, permissions, views,
api, admin (ADR 0010)."""
