"""A transport code's prices: what one segment costs, by destination country.

A code has one price per segment for every destination, and may have prices for some
destination countries that override it (a US long code reaching Canada, a short code of a
carrier that bills Puerto Rico apart). A destination whose country has no price of its own pays
the code's price; with no such price either, it has none (`None`: not priced).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from proactive_sms.domain.phone import region_of

DEFAULT_COUNTRY = ""  # the key of the code's own price (every country without one of its own)


@dataclass(frozen=True)
class PriceList:
    currency: str
    default_micros: int | None  # per segment, for every country without a price of its own
    by_country: Mapping[str, int] = field(default_factory=dict)  # ISO region -> micros

    def per_segment(self, destination: str | None) -> int | None:
        """The price of one segment to this E.164 destination (None: not priced)."""
        if self.by_country and destination:
            price = self.by_country.get(region_of(destination) or "")
            if price is not None:
                return price
        return self.default_micros

    def cost(self, destination: str | None, segments: int) -> int | None:
        """What a text of `segments` segments to `destination` costs, in micros."""
        price = self.per_segment(destination)
        return None if price is None else segments * price

    @property
    def uniform(self) -> bool:
        """One price for every destination: a text's cost depends on its segments only."""
        return not self.by_country
