"""ReplyDrafter's parsing and error mapping, with the openai client on an httpx2.MockTransport."""

import json
import time

import httpx2
import pytest

from integrations.llm.drafter import (
    ACTIONS,
    INTENTS,
    REPLY_SCHEMA,
    ContentFiltered,
    DrafterError,
    DraftResult,
    ReplyDrafter,
    schema_errors,
)

BASE_URL = "https://o2c-test.openai.azure.com/openai/v1"
GOOD = {
    "reply": "Hi Ada, order #1001 shipped on 2026-11-21.",
    "intent": "where_is_my_order",
    "cited_policy_ids": [],
    "facts_used": ["order.name", "order.shipments[0].shipped_at"],
    "proposed_actions": ["send_tracking"],
    "needs_human_reason": "",
    "confidence": 0.9,
}


def completion(content, *, finish_reason="stop", refusal=None, **choice_extra) -> dict:
    message = {"role": "assistant", "content": content, "refusal": refusal}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {"index": 0, "message": message, "finish_reason": finish_reason, **choice_extra}
        ],
        "usage": {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366},
    }


class Peer:
    """Answers each request with the next queued response and keeps what was sent."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def drafter_on(peer: Peer, **kwargs) -> ReplyDrafter:
    options = {"api_key": "k", "deployment": "support-gpt", "max_retries": 0, **kwargs}
    return ReplyDrafter(
        base_url=BASE_URL,
        http_client=httpx2.Client(transport=httpx2.MockTransport(peer)),
        **options,
    )


def ok(content, **kwargs) -> httpx2.Response:
    return httpx2.Response(200, json=completion(content, **kwargs))


def test_a_conforming_answer_becomes_a_draft_result():
    def slow_peer(request: httpx2.Request) -> httpx2.Response:
        time.sleep(0.12)  # the model's think time, which latency_ms must include
        return Peer(ok(json.dumps(GOOD)))(request)

    result = drafter_on(slow_peer).draft(
        system="instructions", user="<order_facts>{}</order_facts>"
    )

    assert 120 <= result.latency_ms < 5_000

    assert result == DraftResult(
        reply=GOOD["reply"],
        intent="where_is_my_order",
        cited_policy_ids=(),
        facts_used=("order.name", "order.shipments[0].shipped_at"),
        proposed_actions=("send_tracking",),
        needs_human_reason="",
        confidence=0.9,
        model="gpt-4o-mini-2024-07-18",
        prompt_tokens=321,
        completion_tokens=45,
        latency_ms=result.latency_ms,  # measured, asserted above
        raw_output=json.dumps(GOOD),
        finish_reason="stop",
    )


def test_the_request_is_a_v1_chat_completion_with_the_strict_schema():
    peer = Peer(ok(json.dumps(GOOD)))

    drafter_on(peer, api_key="secret-key").draft(system="S", user="U")

    (request,) = peer.requests
    assert str(request.url) == f"{BASE_URL}/chat/completions"
    assert "api-version" not in str(request.url)
    assert request.headers["Authorization"] == "Bearer secret-key"
    body = json.loads(request.content)
    assert body["model"] == "support-gpt"
    assert body["messages"] == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "U"},
    ]
    assert body["temperature"] == 0.2
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "support_reply"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["response_format"]["json_schema"]["schema"] == REPLY_SCHEMA


def test_reply_schema_is_strict():
    assert REPLY_SCHEMA["additionalProperties"] is False
    assert set(REPLY_SCHEMA["required"]) == set(REPLY_SCHEMA["properties"])
    assert REPLY_SCHEMA["properties"]["intent"]["enum"] == list(INTENTS)
    assert REPLY_SCHEMA["properties"]["proposed_actions"]["items"]["enum"] == list(ACTIONS)
    assert schema_errors(GOOD, REPLY_SCHEMA) == []


@pytest.mark.parametrize(
    "content",
    [
        "not json at all",
        '{"reply": "Hi',
        json.dumps([GOOD]),
        json.dumps({**GOOD, "discount_code": "HALFOFF"}),
        json.dumps({k: v for k, v in GOOD.items() if k != "confidence"}),
        json.dumps({**GOOD, "intent": "issue_refund"}),
        json.dumps({**GOOD, "proposed_actions": ["issue_refund"]}),
        json.dumps({**GOOD, "cited_policy_ids": "returns-30"}),
        json.dumps({**GOOD, "confidence": 1.5}),
        json.dumps({**GOOD, "confidence": True}),
        json.dumps({**GOOD, "needs_human_reason": None}),
        "",
    ],
    ids=[
        "prose",
        "truncated",
        "array",
        "extra-field",
        "missing-field",
        "bad-intent",
        "bad-action",
        "string-not-array",
        "confidence-above-1",
        "confidence-bool",
        "null-reason",
        "empty",
    ],
)
def test_an_answer_off_the_schema_is_a_permanent_error_keeping_the_raw_output(content):
    with pytest.raises(DrafterError) as caught:
        drafter_on(Peer(ok(content))).draft(system="S", user="U")

    assert caught.value.message == "the model's answer did not follow the schema"
    assert caught.value.retryable is False
    assert caught.value.body == content


def test_a_prompt_filtered_by_azure_raises_content_filtered_on_the_prompt():
    error = {
        "message": "The response was filtered due to the prompt triggering Azure OpenAI's "
        "content management policy.",
        "type": None,
        "param": "prompt",
        "code": "content_filter",
        "status": 400,
        "innererror": {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": {
                "hate": {"filtered": False, "severity": "safe"},
                "jailbreak": {"filtered": True, "detected": True},
                "violence": {"filtered": True, "severity": "medium"},
            },
        },
    }
    peer = Peer(httpx2.Response(400, json={"error": error}))

    with pytest.raises(ContentFiltered) as caught:
        drafter_on(peer, max_retries=2).draft(system="S", user="U")

    assert caught.value.where == "prompt"
    assert caught.value.detail.endswith("(flagged: jailbreak, violence)")
    assert len(peer.requests) == 1


def test_a_filtered_answer_raises_content_filtered_on_the_answer():
    filtered = {"violence": {"filtered": True, "severity": "high"}}
    peer = Peer(
        ok('{"reply": "Hi', finish_reason="content_filter", content_filter_results=filtered)
    )

    with pytest.raises(ContentFiltered) as caught:
        drafter_on(peer).draft(system="S", user="U")

    assert caught.value.where == "answer"
    assert "violence" in caught.value.detail
    assert caught.value.raw_output == '{"reply": "Hi'
    assert (caught.value.prompt_tokens, caught.value.completion_tokens) == (321, 45)


def test_another_400_is_a_permanent_error():
    body = {"error": {"message": "Invalid schema", "type": "invalid_request_error", "code": None}}

    with pytest.raises(DrafterError) as caught:
        drafter_on(Peer(httpx2.Response(400, json=body))).draft(system="S", user="U")

    assert caught.value.status_code == 400
    assert caught.value.retryable is False
    assert "Invalid schema" in caught.value.message


def test_an_answer_cut_at_the_token_limit_is_a_permanent_error():
    with pytest.raises(DrafterError) as caught:
        drafter_on(Peer(ok('{"reply": "Hi', finish_reason="length"))).draft(system="S", user="U")

    assert caught.value.retryable is False
    assert "token limit" in caught.value.message


def test_a_refusal_is_a_permanent_error():
    peer = Peer(ok(None, refusal="I can't help with that."))

    with pytest.raises(DrafterError) as caught:
        drafter_on(peer).draft(system="S", user="U")

    assert caught.value.retryable is False
    assert "refused" in caught.value.message


def test_server_errors_are_retried_by_the_client_then_retryable():
    fast = {"retry-after-ms": "1"}
    peer = Peer(httpx2.Response(503, json={"error": {"message": "busy"}}, headers=fast))

    with pytest.raises(DrafterError) as caught:
        drafter_on(peer, max_retries=2).draft(system="S", user="U")

    assert len(peer.requests) == 3
    assert caught.value.retryable is True
    assert caught.value.status_code == 503
    assert "after 2 retries" in caught.value.message


def test_a_retry_that_succeeds_returns_the_draft():
    fast = {"retry-after-ms": "1"}
    peer = Peer(httpx2.Response(500, headers=fast), ok(json.dumps(GOOD)))

    result = drafter_on(peer, max_retries=1).draft(system="S", user="U")

    assert result.intent == "where_is_my_order"
    assert len(peer.requests) == 2


def test_a_429_carries_azures_wait():
    headers = {"retry-after": "12", "retry-after-ms": "11500"}
    peer = Peer(httpx2.Response(429, json={"error": {"code": "429"}}, headers=headers))

    with pytest.raises(DrafterError) as caught:
        drafter_on(peer).draft(system="S", user="U")

    assert caught.value.retryable is True
    assert caught.value.retry_after == 11.5


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        (httpx2.ReadTimeout("slow"), "timed out"),
        (httpx2.ConnectError("refused"), "connection failed"),
    ],
)
def test_transport_failures_are_retryable(failure, words):
    peer = Peer(failure)

    with pytest.raises(DrafterError) as caught:
        drafter_on(peer, max_retries=0).draft(system="S", user="U")

    assert caught.value.retryable is True
    assert words in caught.value.message


def test_a_token_provider_is_called_for_each_request():
    tokens = iter(["entra-1", "entra-2"])
    peer = Peer(ok(json.dumps(GOOD)))
    drafter = drafter_on(peer, api_key=lambda: next(tokens))

    drafter.draft(system="S", user="U")
    drafter.draft(system="S", user="U")

    assert [r.headers["Authorization"] for r in peer.requests] == [
        "Bearer entra-1",
        "Bearer entra-2",
    ]


def entra_token() -> str:
    return "token-from-dotted-path"


def test_from_config_takes_a_token_provider_by_dotted_path():
    drafter = ReplyDrafter.from_config(
        {
            "BASE_URL": BASE_URL,
            "DEPLOYMENT": "support-gpt",
            "API_KEY": "",
            "TOKEN_PROVIDER": "tests.llm.test_drafter_unit.entra_token",
            "TIMEOUT_SECONDS": "12",
            "MAX_RETRIES": "1",
        }
    )

    assert drafter._client._api_key_provider is entra_token
    assert (drafter.timeout, drafter.max_retries, drafter.deployment) == (12.0, 1, "support-gpt")


@pytest.mark.parametrize(
    "config",
    [
        {"BASE_URL": "", "API_KEY": "k", "DEPLOYMENT": "d"},
        {"BASE_URL": BASE_URL, "API_KEY": "", "DEPLOYMENT": "d"},
        {"BASE_URL": BASE_URL, "API_KEY": "k", "DEPLOYMENT": ""},
    ],
)
def test_missing_configuration_is_a_permanent_error(config):
    with pytest.raises(DrafterError) as caught:
        ReplyDrafter.from_config(config)

    assert caught.value.retryable is False
    assert "not configured" in caught.value.message
