"""The deployment's HTTP options, passed to every peer client the apps build (integrations read no
settings): `ShopifyClient.from_config(settings.SHOPIFY, **client_options(), ...)`."""

from typing import TypedDict

from django.conf import settings


class ClientOptions(TypedDict):
    timeout: float
    user_agent: str


def client_options() -> ClientOptions:
    return {"timeout": settings.HTTP_TIMEOUT_SECONDS, "user_agent": settings.HTTP_USER_AGENT}
