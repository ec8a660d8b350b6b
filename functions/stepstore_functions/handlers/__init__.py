"""Lambda entry points: Powertools wiring, routes, one call into logic each."""
