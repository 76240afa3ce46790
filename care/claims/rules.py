"""The computation of a claim by its plan version's rules, step by step. Pure: it reads
nothing and writes nothing, so every rule is tested as a table (tests/care/claims).

The steps, in order (money in yuan, rounded half up to the fen only at the end of each step):
1. base: the self-paid parts of the invoices, added up;
2. deductible: the plan's deductible per claim (起付线) is taken off (not below zero);
3. ratio: the rest is paid at the ratio of the claim's category (0 when not covered);
4. per-claim cap: at most the cap per claim;
5. annual cap: at most what is left of the annual cap (年度封顶) in the claim's year, after
   every claim already approved or paid for that member in that plan and year.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value) -> Decimal:
    """A yuan amount rounded half up (四舍五入) to the fen."""
    return Decimal(str(value)).quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Rules:
    version_id: int | None
    waiting_days: int
    deductible: Decimal
    ratios: dict[str, Decimal]
    per_claim_cap: Decimal
    annual_cap: Decimal

    @classmethod
    def of(cls, version) -> "Rules":
        return cls(
            version_id=version.pk,
            waiting_days=version.waiting_days,
            deductible=money(version.deductible),
            ratios=parse_ratios(version.ratios),
            per_claim_cap=money(version.per_claim_cap),
            annual_cap=money(version.annual_cap),
        )


def parse_ratios(raw) -> dict[str, Decimal]:
    """``{"inpatient": "0.5"}`` → ``{"inpatient": Decimal("0.5")}``; every ratio in [0, 1]."""
    if not isinstance(raw, dict):
        raise ValueError("ratios must be a mapping of category to ratio")
    ratios = {}
    for category, value in raw.items():
        try:
            ratio = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"ratio of {category!r} is not a number") from None
        if not ratio.is_finite() or not (0 <= ratio <= 1):
            raise ValueError(f"ratio of {category!r} must be between 0 and 1")
        ratios[str(category)] = ratio
    return ratios


@dataclass(frozen=True)
class Step:
    code: str  # base, deductible, ratio, per_claim_cap, annual_cap
    amount: Decimal  # the running amount after this step
    args: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"code": self.code, "amount": str(self.amount),
                "args": {k: str(v) for k, v in self.args.items()}}


@dataclass(frozen=True)
class Computation:
    steps: tuple[Step, ...]

    @property
    def payable(self) -> Decimal:
        return self.steps[-1].amount

    def as_json(self, *, version_id: int | None) -> dict:
        return {"version": version_id, "payable": str(self.payable), "steps": [s.as_json() for s in self.steps]}


def compute(*, rules: Rules, category: str, self_paid: list[Decimal], used_this_year: Decimal) -> Computation:
    """The payable amount of a claim, with each step that led to it."""
    base = money(sum((money(x) for x in self_paid), ZERO))
    steps = [Step("base", base, {"invoices": len(self_paid)})]
    after_deductible = max(ZERO, base - rules.deductible)
    steps.append(Step("deductible", after_deductible, {"deductible": rules.deductible}))
    ratio = rules.ratios.get(category)
    by_ratio = money(after_deductible * ratio) if ratio is not None else ZERO
    steps.append(Step("ratio", by_ratio, {"ratio": ratio if ratio is not None else "", "category": category}))
    capped = min(by_ratio, rules.per_claim_cap)
    steps.append(Step("per_claim_cap", capped, {"cap": rules.per_claim_cap}))
    used = money(used_this_year)
    left = max(ZERO, rules.annual_cap - used)
    steps.append(Step("annual_cap", min(capped, left), {"cap": rules.annual_cap, "used": used, "left": left}))
    return Computation(tuple(steps))
