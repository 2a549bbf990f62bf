"""The Azure OpenAI stand-in under /sandbox/openai/: the v1 chat completions endpoint and its switch.

`POST v1/chat/completions`: fault injection, then the key (`Authorization: Bearer` or Azure's
`api-key` header, equal to settings.AZURE_OPENAI["API_KEY"]; 401 otherwise), then the deployment
(`model` must equal settings.AZURE_OPENAI["DEPLOYMENT"]; 404 otherwise, as Azure answers), then the
answer the current SandboxModelBehaviour calls for. Every answered call is logged as a
SandboxModelCall.
"""

import hashlib
import json
import secrets
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from apps.sandbox.faults import sandbox_faults
from apps.sandbox.openai import claims, writer
from apps.sandbox.openai.models import SandboxModelBehaviour, SandboxModelCall
from apps.sandbox.openai.services import behaviour_get, behaviour_set
from apps.sandbox.views import FAULT_PERMISSION

Mode = SandboxModelBehaviour.Mode
FILTER_CATEGORIES = ("hate", "self_harm", "sexual", "violence")
PROMPT_FILTERED_MESSAGE = (
    "The response was filtered due to the prompt triggering Azure OpenAI's content management "
    "policy. Please modify your prompt and retry. To learn more about our content filtering "
    "policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766"
)


def _error(status: int, message: str, *, code: str | None, param: str | None = None, **extra):
    body = {"message": message, "type": extra.pop("type", None), "param": param, "code": code}
    return JsonResponse({"error": {**body, **extra}}, status=status)


def _filter_results(*, flagged: str = "") -> dict:
    results = {
        name: {"filtered": name == flagged, "severity": "high" if name == flagged else "safe"}
        for name in FILTER_CATEGORIES
    }
    results["jailbreak"] = {"filtered": flagged == "jailbreak", "detected": flagged == "jailbreak"}
    return results


def _key_valid(request: HttpRequest) -> bool:
    expected = str(settings.AZURE_OPENAI.get("API_KEY") or "")
    header = request.headers.get("Authorization", "")
    given = header[7:].strip() if header.lower().startswith("bearer ") else ""
    given = given or request.headers.get("api-key", "").strip()
    return bool(expected and given and constant_time_compare(given, expected))


def _completion(*, request_body: dict, model: str, content: str, finish_reason: str) -> dict:
    prompt_text = " ".join(
        str(m.get("content") or "") for m in request_body["messages"] if isinstance(m, dict)
    )
    prompt_tokens, completion_tokens = (
        writer.tokens_count(prompt_text),
        writer.tokens_count(content),
    )
    flagged = "violence" if finish_reason == "content_filter" else ""
    digest = hashlib.sha256(json.dumps(request_body, sort_keys=True).encode()).hexdigest()
    return {
        "id": f"chatcmpl-sandbox-{digest[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": f"{model}-sandbox",
        "system_fingerprint": "fp_sandbox",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": _filter_results()}],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": finish_reason,
                "logprobs": None,
                "content_filter_results": _filter_results(flagged=flagged),
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _content(*, answer: dict, response_format: dict) -> str:
    """The answer as the request's response_format asks: a JSON object or the reply's text."""
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        return json.dumps(writer.answer_shape(answer, spec.get("schema")), ensure_ascii=False)
    if kind == "json_object":
        return json.dumps(answer, ensure_ascii=False)
    return answer["reply"]


def _answer(*, body: dict, mode: str) -> tuple[int, dict]:
    model = str(body["model"])
    prompt = writer.prompt_read(messages=body["messages"])
    if mode == Mode.CONTENT_FILTER_PROMPT:
        inner = {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": _filter_results(flagged="jailbreak"),
        }
        error = {
            "message": PROMPT_FILTERED_MESSAGE,
            "type": None,
            "param": "prompt",
            "code": "content_filter",
            "status": 400,
            "innererror": inner,
        }
        return 400, {"error": error}
    response_format = body.get("response_format") or {}
    schema_name = (
        (response_format.get("json_schema") or {}) if isinstance(response_format, dict) else {}
    ).get("name")
    if schema_name == "reply_claims":
        answer = claims.claims_list(text=claims.draft_text(messages=body["messages"]))
    else:
        answer = writer.answer_write(prompt=prompt, mode=mode)
    content = _content(answer=answer, response_format=response_format)
    finish_reason = "stop"
    if mode == Mode.CONTENT_FILTER_ANSWER:
        # The filter stops the stream part-way: what was written so far, no closing brace.
        content, finish_reason = content[: len(content) // 3], "content_filter"
    elif mode == Mode.MALFORMED_JSON:
        content = f"Sure! Here is the reply you asked for:\n{content[: len(content) // 2]}"
    return 200, _completion(
        request_body=body, model=model, content=content, finish_reason=finish_reason
    )


@csrf_exempt
@require_POST
@sandbox_faults("openai")
def chat_completions(request: HttpRequest) -> HttpResponse:
    if not _key_valid(request):
        return JsonResponse(
            {
                "error": {
                    "code": "401",
                    "message": "Access denied due to invalid subscription key or wrong API "
                    "endpoint. Make sure to provide a valid key for an active subscription and "
                    "use a correct regional API endpoint for your resource.",
                }
            },
            status=401,
        )
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _error(400, "We could not parse the JSON body of your request.", code=None)
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return _error(
            400,
            "Missing required parameter: 'messages'.",
            code="missing_required_parameter",
            param="messages",
            type="invalid_request_error",
        )
    if body.get("model") != settings.AZURE_OPENAI.get("DEPLOYMENT"):
        return JsonResponse(
            {
                "error": {
                    "code": "DeploymentNotFound",
                    "message": "The API deployment for this resource does not exist. If you "
                    "created the deployment within the last 5 minutes, please wait a moment "
                    "and try again.",
                }
            },
            status=404,
        )
    mode = behaviour_get().mode
    status, answer = _answer(body=body, mode=mode)
    SandboxModelCall.objects.create(
        mode=mode, status_code=status, model=str(body["model"]), request=body, response=answer
    )
    return JsonResponse(answer, status=status)


def _api_allowed(request: HttpRequest) -> bool:
    token = settings.SANDBOX_API_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return secrets.compare_digest(header.removeprefix("Bearer ").strip(), token)
    return request.user.is_authenticated and request.user.has_perm(FAULT_PERMISSION)


def _behaviour_json(behaviour: SandboxModelBehaviour) -> dict:
    return {
        "mode": behaviour.mode,
        "modes": list(Mode.values),
        "updated_at": behaviour.updated_at.isoformat() if behaviour.updated_at else None,
    }


# A JSON PUT cannot be sent cross-site without a CORS preflight we never grant (as the fault API).
@csrf_exempt
@require_http_methods(["GET", "PUT"])
def behaviour_api(request: HttpRequest) -> JsonResponse:
    """GET the stand-in model's mode; PUT {"mode": "..."} to change it."""
    if not _api_allowed(request):
        raise PermissionDenied
    if request.method == "GET":
        return JsonResponse(_behaviour_json(behaviour_get()))
    try:
        changes = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"errors": {"__all__": ["body is not JSON"]}}, status=400)
    if not isinstance(changes, dict) or set(changes) != {"mode"}:
        return JsonResponse({"errors": {"__all__": ['send {"mode": "<mode>"}']}}, status=400)
    if changes["mode"] not in Mode.values:
        return JsonResponse({"errors": {"mode": [f"one of {Mode.values}"]}}, status=400)
    return JsonResponse(_behaviour_json(behaviour_set(mode=changes["mode"])))


@login_required
@permission_required(FAULT_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
def behaviour_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        mode = request.POST.get("mode", "")
        if mode in Mode.values:
            behaviour = behaviour_set(mode=mode)
            messages.success(request, f"Stand-in model: {behaviour.get_mode_display()}.")
            return redirect("sandbox:sandbox_openai:behaviour")
        messages.error(request, "Pick one of the listed modes.")
    context = {
        "behaviour": behaviour_get(),
        "modes": Mode.choices,
        "calls": SandboxModelCall.objects.only("created_at", "mode", "status_code", "model")[:20],
        "obey_marker": writer.OBEY_MARKER,
    }
    return render(request, "sandbox_openai/sandboxmodelbehaviour_form.html", context)
