"""The error every ``vqft`` command raises for a user-facing failure (its own module, so ``python -m release.cli``
and the installed ``vqft`` script catch the same class)."""


class CommandError(Exception):
    """A user-facing failure: printed as one clear message, exit status 2, no traceback."""
