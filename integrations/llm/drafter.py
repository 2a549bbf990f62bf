"""The support reply drafter: chat completions against an Azure OpenAI v1 endpoint.

`ReplyDrafter.draft(system=..., user=...)` sends the prompt the caller built (instructions in the
system message, the order facts and the fenced customer text in the user message) with a strict
JSON schema as the response format, and returns a `DraftResult` whose fields passed that schema.
`ReplyDrafter.claims_list(...)` is the second opinion: the same deployment lists a draft's claims
under CLAIMS_SCHEMA (`ClaimsResult`); the caller verifies each one.

Outcomes the caller must tell apart:
- `ContentFiltered(where="prompt")`: Azure refused the prompt (HTTP 400, `error.code ==
  "content_filter"`); `ContentFiltered(where="answer")`: the answer was cut by the filter
  (`finish_reason == "content_filter"`). Both mean "needs a human", never a draft.
- `DrafterError(retryable=True)`: timeouts, connection failures, 408/409/429/5xx, after the openai
  client's own retries (`max_retries`); try again later (`retry_after` when the service said).
- `DrafterError(retryable=False)`: wrong key or deployment, a bad request, an answer that is not
  JSON or does not follow the schema, a refusal or an answer cut at the token limit.

Plain Python: the openai package (which sends through `httpx2`), no Django.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

import httpx2
import openai
from openai.types.chat import ChatCompletionSystemMessageParam, ChatCompletionUserMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema

from integrations.http import RETRYABLE_STATUSES, PeerError, object_at, parse_retry_after

logger = logging.getLogger("integrations.llm")

PEER = "azure_openai"
SCHEMA_NAME = "support_reply"
TEMPERATURE = 0.2
# Connecting should be quick; a slow connect means the endpoint is unreachable.
MAX_CONNECT_TIMEOUT_SECONDS = 5.0
BODY_KEEP_CHARS = 4000

INTENTS = (
    "where_is_my_order",
    "delivery_problem",
    "return_or_refund",
    "cancel_order",
    "change_address",
    "product_question",
    "other",
)
ACTIONS = (
    "none",
    "send_tracking",
    "escalate_to_human",
    "offer_return_per_policy",
    "cancel_request_per_policy",
)

REPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "reply",
        "intent",
        "cited_policy_ids",
        "facts_used",
        "proposed_actions",
        "needs_human_reason",
        "confidence",
    ],
    "properties": {
        "reply": {
            "type": "string",
            "description": "The email reply to the customer, ready for an agent to review.",
        },
        "intent": {"type": "string", "enum": list(INTENTS)},
        "cited_policy_ids": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Ids of the policies in <order_facts> the reply relies on.",
        },
        "facts_used": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The <order_facts> fields the reply states, as paths.",
        },
        "proposed_actions": {
            "type": "array",
            "items": {"type": "string", "enum": list(ACTIONS)},
        },
        "needs_human_reason": {
            "type": "string",
            "description": 'Why a person must handle this; "" when nothing needs a person.',
        },
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
}

RESPONSE_FORMAT: ResponseFormatJSONSchema = {
    "type": "json_schema",
    "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": REPLY_SCHEMA},
}

CLAIMS_SCHEMA_NAME = "reply_claims"
CLAIM_KINDS = (
    "promise",
    "amount",
    "date",
    "order_reference",
    "tracking_number",
    "link",
    "personal_data",
)
PROMISE_KINDS = (
    "refund",
    "replace",
    "send",
    "cover_cost",
    "discount",
    "credit",
    "return",
    "cancel",
    "guarantee",
    "deliver_by",
)
CLAIMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["claims"],
    "properties": {
        "claims": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["kind", "text", "value"],
                "properties": {
                    "kind": {"type": "string", "enum": list(CLAIM_KINDS)},
                    "text": {"type": "string", "description": "The words of the draft, verbatim."},
                    "value": {
                        "type": "string",
                        "description": "promise: one of "
                        + ", ".join(PROMISE_KINDS)
                        + '; amount: "<number> <ISO currency>"; date: YYYY-MM-DD, or the words '
                        "for a relative day; others: the reference, number, URL or datum.",
                    },
                },
            },
        }
    },
}
CLAIMS_RESPONSE_FORMAT: ResponseFormatJSONSchema = {
    "type": "json_schema",
    "json_schema": {"name": CLAIMS_SCHEMA_NAME, "strict": True, "schema": CLAIMS_SCHEMA},
}


@dataclass(frozen=True)
class _Answer:
    """A completion that passed its schema."""

    data: dict[str, Any]
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    raw_output: str
    finish_reason: str


@dataclass(frozen=True)
class ListedClaim:
    kind: str
    text: str
    value: str


@dataclass(frozen=True)
class ClaimsResult:
    claims: tuple[ListedClaim, ...]
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    raw_output: str


@dataclass(frozen=True)
class DraftResult:
    reply: str
    intent: str
    cited_policy_ids: tuple[str, ...]
    facts_used: tuple[str, ...]
    proposed_actions: tuple[str, ...]
    needs_human_reason: str
    confidence: float
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    raw_output: str
    finish_reason: str


class ContentFiltered(Exception):  # noqa: N818 - the domain's word: the content filter fired
    """Azure's content filter stopped the prompt or the answer: a human handles this ticket.

    The keyword attributes carry what the audit trail records (the answer's partial text, tokens).
    """

    def __init__(
        self,
        where: Literal["prompt", "answer"],
        detail: str = "",
        *,
        model: str = "",
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        latency_ms: int = 0,
        raw_output: str = "",
    ) -> None:
        super().__init__(f"content filter on the {where}: {detail}" if detail else where)
        self.where = where
        self.detail = detail
        self.model = model
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.latency_ms = latency_ms
        self.raw_output = raw_output


class DrafterError(PeerError):
    """Drafting failed. `retryable` says whether a later attempt can help; `body` keeps the
    service's error body or the model's raw answer."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        status_code: int | None = None,
        body: str = "",
        latency_ms: int = 0,
    ) -> None:
        super().__init__(
            PEER,
            message,
            retryable=retryable,
            retry_after=retry_after,
            status_code=status_code,
            body=body,
        )
        self.latency_ms = latency_ms


def schema_errors(value: Any, schema: Mapping[str, Any], path: str = "$") -> list[str]:
    """What in `value` breaks `schema`, for the keywords REPLY_SCHEMA uses (type, enum, required,
    additionalProperties, items, minimum, maximum). An empty list means the value conforms."""
    kind = schema.get("type")
    checks: dict[str, Callable[[Any], bool]] = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "number": lambda v: (
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        ),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
    }
    if kind in checks and not checks[kind](value):
        return [f"{path}: expected {kind}"]
    errors: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {list(schema['enum'])}")
    if kind == "number":
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: above {schema['maximum']}")
    if kind == "object":
        properties = schema.get("properties", {})
        errors += [
            f"{path}.{name}: missing" for name in schema.get("required", ()) if name not in value
        ]
        if schema.get("additionalProperties") is False:
            errors += [f"{path}.{name}: not allowed" for name in value if name not in properties]
        for name, sub in properties.items():
            if name in value:
                errors += schema_errors(value[name], sub, f"{path}.{name}")
    if kind == "array" and "items" in schema:
        for index, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{path}[{index}]")
    return errors


def _token_provider(reference: str | Callable[[], str]) -> Callable[[], str]:
    """A zero-argument callable returning a bearer token, or the dotted path of one."""
    if callable(reference):
        return reference
    module_name, _, attribute = reference.rpartition(".")
    if not module_name:
        raise DrafterError(f"TOKEN_PROVIDER {reference!r} is not a dotted path")
    provider = getattr(importlib.import_module(module_name), attribute)
    if not callable(provider):
        raise DrafterError(f"TOKEN_PROVIDER {reference!r} is not callable")
    return cast(Callable[[], str], provider)


def _body_text(exc: openai.APIStatusError) -> str:
    body = exc.body
    text = json.dumps(body) if isinstance(body, dict | list) else str(body or "")
    return text[:BODY_KEEP_CHARS]


def _filter_detail(body: object, fallback: str) -> str:
    """The filter's message and the categories it flagged (Azure's `innererror`)."""
    if not isinstance(body, dict):
        return fallback
    message = str(body.get("message") or fallback)
    inner = object_at(body, "innererror")
    results = inner.get("content_filter_result") or {}
    flagged = sorted(
        name
        for name, result in results.items()
        if isinstance(result, dict) and (result.get("filtered") or result.get("detected"))
    )
    return f"{message} (flagged: {', '.join(flagged)})" if flagged else message


def _answer_filter_detail(choice: Any) -> str:
    """Azure adds `content_filter_results` to a filtered choice; name the flagged categories."""
    extra = getattr(choice, "model_extra", None) or {}
    results = extra.get("content_filter_results") or {}
    flagged = sorted(
        name
        for name, result in results.items()
        if isinstance(result, dict) and result.get("filtered")
    )
    base = "the answer was stopped by the content filter"
    return f"{base} (flagged: {', '.join(flagged)})" if flagged else base


class ReplyDrafter:
    """Drafts one support reply per call; safe to share between threads (the openai client is)."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | Callable[[], str],
        deployment: str,
        timeout: float = 30.0,
        max_retries: int = 2,
        http_client: httpx2.Client | None = None,
    ) -> None:
        if not base_url or not deployment or not api_key:
            raise DrafterError(
                "Azure OpenAI is not configured: set AZURE_OPENAI_BASE_URL, "
                "AZURE_OPENAI_DEPLOYMENT and AZURE_OPENAI_API_KEY (or a token provider)"
            )
        self.base_url = base_url
        self.deployment = deployment
        self.timeout = timeout
        self.max_retries = max_retries
        # A callable key is an Entra token provider: the client calls it before every request.
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key,
            timeout=httpx2.Timeout(timeout, connect=min(MAX_CONNECT_TIMEOUT_SECONDS, timeout)),
            max_retries=max_retries,
            http_client=http_client,
        )

    def close(self) -> None:
        """Close the pooled connections (a task that built its own drafter closes it when done)."""
        self._client.close()

    def __enter__(self) -> ReplyDrafter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ReplyDrafter:
        """Build from settings.AZURE_OPENAI: BASE_URL, DEPLOYMENT and API_KEY, or TOKEN_PROVIDER
        (a callable or its dotted path, e.g. azure-identity's bearer token provider) instead of
        the key; optional TIMEOUT_SECONDS and MAX_RETRIES."""
        provider = config.get("TOKEN_PROVIDER")
        api_key = _token_provider(provider) if provider else config.get("API_KEY", "")
        return cls(
            base_url=config.get("BASE_URL", ""),
            api_key=api_key,
            deployment=config.get("DEPLOYMENT", ""),
            timeout=float(config.get("TIMEOUT_SECONDS", 30.0)),
            max_retries=int(config.get("MAX_RETRIES", 2)),
        )

    def draft(self, *, system: str, user: str) -> DraftResult:
        """One reply for the prompt; raises ContentFiltered or DrafterError instead of a bad draft."""
        answer = self._complete(system=system, user=user, response_format=RESPONSE_FORMAT)
        data = answer.data
        return DraftResult(
            reply=data["reply"],
            intent=data["intent"],
            cited_policy_ids=tuple(data["cited_policy_ids"]),
            facts_used=tuple(data["facts_used"]),
            proposed_actions=tuple(data["proposed_actions"]),
            needs_human_reason=data["needs_human_reason"],
            confidence=float(data["confidence"]),
            model=answer.model,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            latency_ms=answer.latency_ms,
            raw_output=answer.raw_output,
            finish_reason=answer.finish_reason,
        )

    def claims_list(self, *, system: str, user: str) -> ClaimsResult:
        """The second opinion: the draft's promises, amounts, dates, references, links and personal
        data, listed by the model under CLAIMS_SCHEMA (the caller verifies each one)."""
        answer = self._complete(system=system, user=user, response_format=CLAIMS_RESPONSE_FORMAT)
        claims = tuple(
            ListedClaim(kind=c["kind"], text=c["text"], value=c["value"])
            for c in answer.data["claims"]
        )
        return ClaimsResult(
            claims=claims,
            model=answer.model,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            latency_ms=answer.latency_ms,
            raw_output=answer.raw_output,
        )

    def _complete(
        self, *, system: str, user: str, response_format: ResponseFormatJSONSchema
    ) -> _Answer:
        started = time.monotonic()
        try:
            completion = self._client.chat.completions.create(
                model=self.deployment,
                messages=[
                    ChatCompletionSystemMessageParam(role="system", content=system),
                    ChatCompletionUserMessageParam(role="user", content=user),
                ],
                response_format=response_format,
                temperature=TEMPERATURE,
            )
        except openai.APIStatusError as exc:
            raise self._status_error(exc, started) from exc
        except openai.APITimeoutError as exc:
            raise DrafterError(
                f"timed out after {self.timeout:g}s ({self.max_retries} retries)",
                retryable=True,
                latency_ms=_elapsed_ms(started),
            ) from exc
        except openai.APIConnectionError as exc:
            raise DrafterError(
                f"connection failed ({self.max_retries} retries): {exc.__cause__ or exc}",
                retryable=True,
                latency_ms=_elapsed_ms(started),
            ) from exc
        except openai.OpenAIError as exc:
            raise DrafterError(
                f"{type(exc).__name__}: {exc}", latency_ms=_elapsed_ms(started)
            ) from exc
        latency_ms = _elapsed_ms(started)
        return self._answer(completion, latency_ms, response_format["json_schema"]["schema"])

    def _status_error(
        self, exc: openai.APIStatusError, started: float
    ) -> ContentFiltered | DrafterError:
        latency_ms = _elapsed_ms(started)
        status = exc.status_code
        if status == 400 and exc.code == "content_filter":
            logger.warning("peer=%s content filter on the prompt in %sms", PEER, latency_ms)
            return ContentFiltered(
                "prompt", _filter_detail(exc.body, exc.message), latency_ms=latency_ms
            )
        retryable = status in RETRYABLE_STATUSES or status == 409 or status >= 500
        retry_after = _retry_after(exc.response.headers)
        message = str(exc.body.get("message")) if isinstance(exc.body, dict) else exc.message
        attempts = f" after {self.max_retries} retries" if retryable else ""
        logger.warning("peer=%s HTTP %s%s in %sms", PEER, status, attempts, latency_ms)
        return DrafterError(
            f"HTTP {status}{attempts}: {message}",
            retryable=retryable,
            retry_after=retry_after,
            status_code=status,
            body=_body_text(exc),
            latency_ms=latency_ms,
        )

    def _answer(self, completion: Any, latency_ms: int, schema: dict[str, Any]) -> _Answer:
        model = completion.model or self.deployment
        usage = completion.usage
        prompt_tokens = usage.prompt_tokens if usage else 0
        completion_tokens = usage.completion_tokens if usage else 0
        if not completion.choices:
            raise DrafterError("the answer has no choices", latency_ms=latency_ms)
        choice = completion.choices[0]
        raw = choice.message.content or ""
        finish_reason = choice.finish_reason or ""
        logger.info(
            "peer=%s model=%s finish=%s tokens=%s+%s in %sms",
            PEER,
            model,
            finish_reason,
            prompt_tokens,
            completion_tokens,
            latency_ms,
        )
        if finish_reason == "content_filter":
            raise ContentFiltered(
                "answer",
                _answer_filter_detail(choice),
                model=model,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                latency_ms=latency_ms,
                raw_output=raw,
            )
        refusal = getattr(choice.message, "refusal", None)
        if refusal:
            raise DrafterError(f"the model refused: {refusal}", body=refusal, latency_ms=latency_ms)
        if finish_reason == "length":
            raise DrafterError(
                "the model's answer was cut off at the token limit",
                body=raw[:BODY_KEEP_CHARS],
                latency_ms=latency_ms,
            )
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        problems = schema_errors(data, schema) if data is not None else ["not JSON"]
        if problems:
            logger.warning("peer=%s answer off schema: %s", PEER, "; ".join(problems[:5]))
            raise DrafterError(
                "the model's answer did not follow the schema",
                body=raw[:BODY_KEEP_CHARS],
                latency_ms=latency_ms,
            )
        return _Answer(
            data=data,
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_ms=latency_ms,
            raw_output=raw,
            finish_reason=finish_reason,
        )


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Azure sends `retry-after-ms` beside `retry-after` on a 429; the finer one wins."""
    try:
        milliseconds = float(headers.get("retry-after-ms", ""))
    except ValueError:
        return parse_retry_after(headers.get("retry-after"))
    return max(0.0, milliseconds / 1000) if math.isfinite(milliseconds) else None


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
