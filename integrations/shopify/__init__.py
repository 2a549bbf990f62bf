"""Shopify Admin API: webhook signatures and the GraphQL client (reconciliation, fulfillment, inventory)."""
