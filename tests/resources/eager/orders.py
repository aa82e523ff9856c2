"""An eager workflow that prices an order: awaits, a loop, and a branch on a real value."""

from plait import eager, task, workflow


@task
def unit_price(item: str) -> float:
    return {"apple": 0.5, "pear": 0.75, "melon": 3.0}[item]


@task
def line_total(price: float, quantity: int) -> float:
    return round(price * quantity, 2)


@task
def discount(total: float) -> float:
    return round(total * 0.9, 2)


@workflow
def priced_line(item: str, quantity: int) -> float:
    return line_total(price=unit_price(item=item), quantity=quantity)


@eager
async def order_total(items: list[str], quantity: int = 2) -> float:
    total = 0.0
    for item in items:
        total += await priced_line(item=item, quantity=quantity)
    if total > 5:
        return await discount(total=total)
    return total
