"""The one exception type that reaches a user as a sentence, not a traceback."""


class UserError(Exception):
    """Bad input from the user: a missing file, a malformed row, a wrong parameter.

    The message is one clear sentence. The command line prints it on stderr and
    exits with code 2; notebooks show it as is.
    """
