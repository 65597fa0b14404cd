"""pydantic-ai's kind of sentinel: a bare class, neither falsy nor with its own repr."""


class Unset:
    """A singleton to represent an unset value."""


UNSET = Unset()
