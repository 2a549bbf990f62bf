"""Drafting runs in django-q2 so no page waits on the model; the review page polls until it is ready."""

import logging

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.support.context import brand_guide_current, ticket_context
from apps.support.guardrails import Claim, Flag, guardrails_check
from apps.support.models import ReplyDraft, Ticket
from apps.support.prompts import PROMPT_VERSION, prompt_build
from apps.support.second_opinion import second_opinion_prompt, second_opinion_verify
from integrations.llm.drafter import ContentFiltered, DrafterError, DraftResult, ReplyDrafter

logger = logging.getLogger(__name__)
OPEN_DRAFT = (ReplyDraft.Status.DRAFTING, ReplyDraft.Status.READY, ReplyDraft.Status.NEEDS_HUMAN)


def reply_draft_request(*, ticket: Ticket, instruction: str = "") -> ReplyDraft:
    """Queue a fresh draft for the ticket (in the caller's transaction); older open drafts are superseded."""
    ticket.drafts.filter(status__in=OPEN_DRAFT).update(
        status=ReplyDraft.Status.REJECTED, reject_reason="superseded by a newer draft"
    )
    draft = ReplyDraft.objects.create(ticket=ticket, instruction=instruction)
    transaction.on_commit(
        lambda: async_task("apps.support.drafting.reply_draft_generate", draft.pk)
    )
    return draft


def reply_draft_generate(draft_id: int) -> str:
    """Task body: build the prompt from the ticket, ask the model, check the answer, store it all."""
    draft = ReplyDraft.objects.select_related("ticket__order").get(pk=draft_id)
    if draft.status != ReplyDraft.Status.DRAFTING:
        return draft.status  # delivered twice, or superseded meanwhile
    guide = brand_guide_current()
    context = ticket_context(draft.ticket, guide)
    system, user = prompt_build(ticket=draft.ticket, context=context, instruction=draft.instruction)
    config = settings.AZURE_OPENAI
    draft.prompt_version = PROMPT_VERSION
    draft.prompt_system, draft.prompt_user = system, user
    draft.context_snapshot = context
    draft.brand_guide_version = guide.version if guide else None
    draft.deployment = config["DEPLOYMENT"]
    second_raw = ""
    try:
        with ReplyDrafter.from_config(config) as drafter:
            result = drafter.draft(system=system, user=user)
            flags, claims, second_raw = draft_review(
                result=result,
                context=context,
                drafter=drafter,
                link_allowlist=settings.SUPPORT["LINK_ALLOWLIST"],
            )
    except ContentFiltered as filtered:
        draft.status = ReplyDraft.Status.NEEDS_HUMAN
        draft.needs_human_reason = (
            f"The model's content filter stopped the {filtered.where}: write this reply yourself."
        )
        draft.raw_output = str(filtered.detail)[:20000]
        draft.flags = [
            {"code": "content_filter", "detail": draft.needs_human_reason, "excerpt": ""}
        ]
    except DrafterError as error:
        draft.status = ReplyDraft.Status.FAILED
        draft.error = error.message
    except Exception as error:  # noqa: BLE001 - misconfiguration must fail the draft, not strand it
        logger.exception("drafting %s failed", draft.pk)
        draft.status = ReplyDraft.Status.FAILED
        draft.error = f"{type(error).__name__}: {error}"
    else:
        draft.model_reply = draft.body = result.reply
        draft.intent = result.intent
        draft.cited_policy_ids = list(result.cited_policy_ids)
        draft.facts_used = list(result.facts_used)
        draft.proposed_actions = list(result.proposed_actions)
        draft.needs_human_reason = result.needs_human_reason
        draft.confidence = result.confidence
        draft.flags = [flag_dict(f) for f in flags]
        draft.claims = [claim_dict(c) for c in claims]
        draft.model = result.model
        draft.prompt_tokens, draft.completion_tokens = (
            result.prompt_tokens,
            result.completion_tokens,
        )
        draft.latency_ms = result.latency_ms
        draft.raw_output = result.raw_output
        draft.status = (
            ReplyDraft.Status.NEEDS_HUMAN if result.needs_human_reason else ReplyDraft.Status.READY
        )
    # The append-only record of the interaction: what the model was sent and what it said.
    trail = {
        "model": draft.model,
        "deployment": draft.deployment,
        "prompt_version": draft.prompt_version,
        "tokens": [draft.prompt_tokens, draft.completion_tokens],
        "latency_ms": draft.latency_ms,
        "flags": [flag["code"] for flag in draft.flags],
        "error": draft.error,
        "prompt_system": draft.prompt_system,
        "prompt_user": draft.prompt_user,
        "context": draft.context_snapshot,
        "raw_output": draft.raw_output,
        "second_opinion_output": second_raw,
    }
    with transaction.atomic():
        current = ReplyDraft.objects.select_for_update().get(pk=draft.pk)
        if current.status != ReplyDraft.Status.DRAFTING:
            # Superseded while the model was writing: keep what it was sent and wrote, not the status.
            fields = ["prompt_version", "prompt_system", "prompt_user", "context_snapshot"]
            fields += ["brand_guide_version", "deployment", "model", "raw_output", "model_reply"]
            fields += ["prompt_tokens", "completion_tokens", "latency_ms"]
            draft.save(update_fields=fields)
            audit_record(
                actor=None,
                actor_label="ai:drafter",
                verb=verbs.REPLY_DRAFT_DISCARDED,
                target=current,
                data={**trail, "status": current.status, "reason": current.reject_reason},
            )
            return current.status
        draft.save()
        audit_record(
            actor=None,
            actor_label="ai:drafter",
            verb=verbs.REPLY_DRAFT_GENERATED,
            target=draft,
            data={**trail, "status": draft.status},
        )
    return draft.status


def draft_review(
    *, result: DraftResult, context: dict, drafter: ReplyDrafter, link_allowlist
) -> tuple[list[Flag], list[Claim], str]:
    """Both layers on a model's draft: the deterministic guardrails, then the same deployment's
    second opinion (from the draft and the facts alone), verified by code.
    Returns (flags, claims, the second opinion's raw output)."""
    review = guardrails_check(
        reply=result.reply,
        context=context,
        cited_policy_ids=result.cited_policy_ids,
        needs_human_reason=result.needs_human_reason,
        confidence=result.confidence,
        link_allowlist=link_allowlist,
    )
    flags, claims = list(review.flags), list(review.claims)
    if not result.reply.strip():
        return flags, claims, ""
    system, user = second_opinion_prompt(reply=result.reply, context=context)
    try:
        listed = drafter.claims_list(system=system, user=user)
    except (DrafterError, ContentFiltered) as error:
        detail = (
            error.message if isinstance(error, DrafterError) else f"content filter ({error.where})"
        )
        flag = Flag(
            "second_opinion",
            f"The model's second opinion could not be had ({detail}): check every claim yourself.",
        )
        return [*flags, flag], claims, ""
    second_flags, second_claims = second_opinion_verify(
        result=listed,
        context=context,
        link_allowlist=link_allowlist,
        reply=result.reply,
        cited=result.cited_policy_ids,
    )
    return flags + flags_not_covered(flags, second_flags), claims + second_claims, listed.raw_output


def flags_not_covered(flags: list[Flag], more: list[Flag]) -> list[Flag]:
    """The second opinion's flags on text no deterministic flag already marks."""
    kept = []
    for flag in more:
        text = flag.excerpt.lower()
        if text and any(
            text in f.excerpt.lower() or f.excerpt.lower() in text for f in flags if f.excerpt
        ):
            continue
        kept.append(flag)
    return kept


def flag_dict(flag: Flag) -> dict:
    return {"code": flag.code, "detail": flag.detail, "excerpt": flag.excerpt}


def claim_dict(claim: Claim) -> dict:
    return {
        "kind": claim.kind,
        "excerpt": claim.excerpt,
        "verified": claim.verified,
        "source": claim.source,
    }
