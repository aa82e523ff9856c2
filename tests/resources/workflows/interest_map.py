"""Mapping over launch plans: the interest on several loans, one child execution each."""

import plait as union


@union.task
def monthly_interest(principal: int, rate: float, time: int) -> float:
    return (principal * rate * time) / 12


@union.workflow
def interest(principal: int, rate: float, time: int) -> float:
    return monthly_interest(principal=principal, rate=rate, time=time)


interest_lp = union.LaunchPlan.get_or_create(workflow=interest, name="interest_lp")


@union.workflow
def interest_for_loans() -> list[float]:
    principals = [1000, 5000, 10000]
    rates = [0.05, 0.04, 0.03]
    months = [12, 24, 36]
    return union.map(interest_lp)(principal=principals, rate=rates, time=months)


@union.workflow
def interest_for_fixed_principal() -> list[float]:
    rates = [0.05, 0.04, 0.03]
    months = [12, 24, 36]
    # every loan borrows 1000
    return union.map(interest_lp, bound_inputs={"principal": 1000})(rate=rates, time=months)
