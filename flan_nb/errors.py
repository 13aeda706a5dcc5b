"""The one exception type for bad user input.

The command line turns a `UserError` into one line on stderr and exit status 2; notebooks let it
propagate so papermill reports the message. Its text names the bad value and how to fix it.
"""


class UserError(ValueError):
    """Bad input from a user: an unknown name, a value of the wrong type, missing data."""


def require(condition: bool, message: str) -> None:
    """Raise UserError(message) unless `condition` (the check configs and stages make on input)."""
    if not condition:
        raise UserError(message)
