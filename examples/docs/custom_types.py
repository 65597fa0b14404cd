"""docs/recordings-and-stores.md: encode and decode a registered type (see myapp.py)."""

import datetime

from myapp import Money

import apirec

data = apirec.encode({"price": Money(990, "EUR"), "when": datetime.date(2026, 1, 2)})
# {'price': {'__type__': 'myapp.Money', '__data__': [990, 'EUR']},
#  'when': {'__type__': 'datetime.date', '__data__': '2026-01-02'}}
price = apirec.decode(data)["price"]  # a Money again

assert data == {
    "price": {"__type__": "myapp.Money", "__data__": [990, "EUR"]},
    "when": {"__type__": "datetime.date", "__data__": "2026-01-02"},
}, data
assert price == Money(990, "EUR")
print(data)
