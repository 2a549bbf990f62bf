"""The project's URLs plus a webhook capture endpoint that checks ShipBob signatures as it records."""

import json

from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from integrations.shipbob.webhooks import webhook_verify
from o2c_portal.urls import urlpatterns as project_urlpatterns

RECEIVED: list[dict] = []
# Tests set this to make the capture endpoint fail (the simulator must retry later).
ANSWER = {"status": 200}


@csrf_exempt
def capture(request):
    RECEIVED.append(
        {
            "topic": request.headers.get("x-webhook-topic"),
            "id": request.headers.get("webhook-id"),
            "verified": webhook_verify(
                secret=settings.SHIPBOB["WEBHOOK_SECRET"],
                headers=request.headers,
                body=request.body,
            ),
            "payload": json.loads(request.body),
        }
    )
    return HttpResponse(status=ANSWER["status"])


urlpatterns = [path("test-capture/shipbob/", capture), *project_urlpatterns]
