"""A workflow calling a name that is never defined: the error comes on first use."""

import plait as union


@union.workflow
def broken(n: int) -> int:
    return never_defined(n=n)  # noqa: F821 - the mistake this program demonstrates
