"""The code under test: a forecast from a slow weather service (here a stand-in)."""

import asyncio

import apirec


@apirec.record(name="weather.forecast")
async def forecast(city: str, *, days: int = 3, units: str = "metric") -> dict:
    await asyncio.sleep(0.2)  # stands for the weather service's round trip
    base = 20 if units == "metric" else 68
    return {"city": city, "units": units, "days": [base + day for day in range(days)]}
