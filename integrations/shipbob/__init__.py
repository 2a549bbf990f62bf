"""ShipBob (the 3PL warehouse), API version 2026-07: the REST client and Standard Webhooks."""
