"""docs/recordings-and-stores.md: a type of your own, registered with apirec's codec."""

import apirec


class Money:  # not a model, a dataclass or an enum
    def __init__(self, cents: int, currency: str):
        self.cents, self.currency = cents, currency

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and (other.cents, other.currency) == (
            self.cents,
            self.currency,
        )


apirec.register_type(Money, encode=lambda m: [m.cents, m.currency], decode=lambda d: Money(*d))
