"""Support's pages: the ticket queue and bulk approval, the review screen and its actions, the form
intake, the per-ticket audit trail and its CSV."""

import csv
import io
import json

import pytest
from django.urls import reverse
from django.utils.html import escape

from apps.audit import verbs
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.support.models import Message, ReplyDraft, Ticket
from apps.support.services import reply_draft_edit
from apps.support.views import highlight
from apps.sync.models import OutboxMessage
from tests.orders.factories import OrderFactory
from tests.support.factories import MessageFactory, ReplyDraftFactory, ticket_with_draft

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
Status = ReplyDraft.Status
PROMISE = {
    "code": "unapproved_commitment",
    "detail": "A refund is promised but no cited policy allows it.",
    "excerpt": "full refund",
}
TRACKING = {
    "code": "unknown_tracking_number",
    "detail": "Tracking number 1Z000 is not in the order's facts.",
    "excerpt": "1Z000",
}
FLAGGED_BODY = "Hi Ada,\n\nWe will send you a full refund today. Tracking: 1Z000.\n\nThe team"


def ticket_link(ticket) -> str:
    return f'href="{reverse("support:ticket", args=[ticket.pk])}"'


def listed(body: str, drafts) -> set[int]:
    return {d.ticket_id for d in drafts if ticket_link(d.ticket) in body}


def sends_for(draft: ReplyDraft):
    return OutboxMessage.objects.filter(
        peer="mail", action="reply_send", payload__draft_id=draft.pk
    )


def audited(draft: ReplyDraft, verb: str):
    return AuditEvent.objects.filter(
        target_type="support.replydraft", target_id=str(draft.pk), verb=verb
    )


def sent_draft(approver) -> ReplyDraft:
    draft = ticket_with_draft()
    ReplyDraft.objects.filter(pk=draft.pk).update(
        status=Status.SENT,
        approved_by=approver,
        approved_at=draft.created_at,
        sent_at=draft.created_at,
    )
    return draft


def statuses(*drafts: ReplyDraft) -> list[str]:
    return [ReplyDraft.objects.get(pk=d.pk).status for d in drafts]


# --- The queue -----------------------------------------------------------------------------------


def test_the_queue_opens_on_drafts_to_review_and_filters_by_the_latest_drafts_status(
    client, support_user
):
    ready = ticket_with_draft()
    drafting = ticket_with_draft(status=Status.DRAFTING, body="")
    human = ticket_with_draft(status=Status.NEEDS_HUMAN)
    failed = ticket_with_draft(status=Status.FAILED, body="")
    sent = sent_draft(support_user)
    everyone = [ready, drafting, human, failed, sent]
    client.force_login(support_user)
    url = reverse("support:ticket-list")

    default = client.get(url).text
    needs_human = client.get(url, {"view": "human"}).text
    every = client.get(url, {"view": "all"}).text
    unknown = client.get(url, {"view": "nonsense"}).text

    assert listed(default, everyone) == {ready.ticket_id, drafting.ticket_id}
    assert listed(needs_human, everyone) == {human.ticket_id, failed.ticket_id}
    assert listed(every, everyone) == {d.ticket_id for d in everyone}
    assert listed(unknown, everyone) == {ready.ticket_id, drafting.ticket_id}
    assert '<option value="review" selected>' in default


def test_the_sent_view_lists_tickets_whose_latest_reply_went_out(client, support_user):
    sent = sent_draft(support_user)
    ready = ticket_with_draft()
    client.force_login(support_user)

    body = client.get(reverse("support:ticket-list"), {"view": "sent"}).text

    assert listed(body, [sent, ready]) == {sent.ticket_id}


def test_only_the_latest_draft_of_a_ticket_decides_where_it_is_listed(client, support_user):
    old = ticket_with_draft(status=Status.REJECTED)
    ReplyDraftFactory(ticket=old.ticket, status=Status.READY)
    client.force_login(support_user)

    body = client.get(reverse("support:ticket-list")).text

    assert listed(body, [old]) == {old.ticket_id}
    assert body.count('name="ids"') == 1


def test_the_queue_searches_by_customer_email_and_order_name(client, support_user):
    target = ticket_with_draft(customer_email="grace@example.com", order__name="#4242")
    other = ticket_with_draft(customer_email="ada@example.com", order__name="#4243")
    client.force_login(support_user)
    url = reverse("support:ticket-list")

    def found(q):
        return listed(client.get(url, {"q": q, "view": "all"}).text, [target, other])

    assert found("grace@") == {target.ticket_id}
    assert found("#4242") == {target.ticket_id}
    assert found("4243") == {other.ticket_id}
    assert "No tickets match." in client.get(url, {"q": "#9999"}).text


def test_the_queue_shows_flag_counts_and_offers_checkboxes_only_for_ready_drafts(
    client, support_user
):
    flagged = ticket_with_draft(body=FLAGGED_BODY, flags=[PROMISE, TRACKING])
    clean = ticket_with_draft()
    ticket_with_draft(status=Status.DRAFTING, body="")
    client.force_login(support_user)

    body = client.get(reverse("support:ticket-list")).text

    assert '<span class="badge warning" data-testid="flag-count">2 flags</span>' in body
    assert f'name="ids" value="{flagged.pk}"' in body
    assert f'name="ids" value="{clean.pk}"' in body
    assert body.count('name="ids"') == 2
    assert "Approve selected" in body


def test_ops_reads_the_queue_without_checkboxes_or_the_approve_button(client, ops_user):
    draft = ticket_with_draft()
    client.force_login(ops_user)

    body = client.get(reverse("support:ticket-list")).text

    assert ticket_link(draft.ticket) in body
    assert 'name="ids"' not in body
    assert "Approve selected" not in body


def test_an_htmx_request_gets_only_the_table(client, support_user):
    draft = ticket_with_draft()
    client.force_login(support_user)

    response = client.get(reverse("support:ticket-list"), **HX)

    assert response.status_code == 200
    assert "<h1>" not in response.text
    assert ticket_link(draft.ticket) in response.text
    assert "HX-Request" in response["Vary"]


def test_the_queue_runs_a_fixed_number_of_queries_however_many_tickets(
    client, support_user, django_assert_max_num_queries
):
    for _ in range(3):
        ticket_with_draft(flags=[PROMISE])
    client.force_login(support_user)
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("support:ticket-list"))
    for n in range(57):
        ticket_with_draft(flags=[PROMISE] if n % 3 else [])
    with django_assert_max_num_queries(10) as many:
        response = client.get(reverse("support:ticket-list"))

    assert response.status_code == 200
    assert response.text.count('name="ids"') == 50
    assert "Page 1 of 2 · 60 rows" in response.text
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Bulk approval -------------------------------------------------------------------------------


def test_bulk_approval_approves_only_ready_drafts_without_flags_and_says_what_it_skipped(
    client, support_user
):
    first, second = ticket_with_draft(), ticket_with_draft()
    flagged = ticket_with_draft(body=FLAGGED_BODY, flags=[PROMISE])
    human = ticket_with_draft(status=Status.NEEDS_HUMAN)
    unselected = ticket_with_draft()
    client.force_login(support_user)

    response = client.post(
        reverse("support:approve-bulk"),
        {"ids": [first.pk, second.pk, flagged.pk, human.pk, 999_999, "x"]},
        **HX,
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "tickets-changed"
    assert "Approved 2 replies" in response.text
    notice = response.text[response.text.index('data-testid="bulk-flagged"') :]
    assert "Skipped 1 flagged draft" in notice
    assert flagged.ticket.subject in notice
    assert "Skipped 2 selected drafts no longer ready" in response.text
    assert statuses(first, second, flagged, human, unselected) == [
        Status.APPROVED,
        Status.APPROVED,
        Status.READY,
        Status.NEEDS_HUMAN,
        Status.READY,
    ]
    for draft in (first, second):
        draft.refresh_from_db()
        assert draft.approved_by == support_user
        assert draft.approved_at is not None
        assert sends_for(draft).count() == 1
        assert audited(draft, "reply_draft.approved").get().actor == support_user
    for draft in (flagged, human, unselected):
        assert not sends_for(draft).exists()


def test_bulk_approval_skips_a_draft_with_an_unverified_claim(client, support_user):
    clean = ticket_with_draft()
    unverified = ticket_with_draft()
    ReplyDraft.objects.filter(pk=unverified.pk).update(
        claims=[{"kind": "date", "excerpt": "Friday", "verified": False, "source": ""}]
    )
    client.force_login(support_user)

    response = client.post(
        reverse("support:approve-bulk"), {"ids": [clean.pk, unverified.pk]}, **HX
    )

    assert "Approved 1 reply" in response.text
    assert unverified.ticket.subject in response.text
    assert statuses(clean, unverified) == [Status.APPROVED, Status.READY]
    assert not sends_for(unverified).exists()


def test_bulk_approval_of_nothing_says_so(client, support_user):
    client.force_login(support_user)

    response = client.post(reverse("support:approve-bulk"), {}, **HX)

    assert response.status_code == 200
    assert 'data-testid="bulk-error"' in response.text
    assert not response.has_header("HX-Trigger")


def test_bulk_approval_without_htmx_redirects_to_the_queue_with_messages(client, support_user):
    clean = ticket_with_draft()
    flagged = ticket_with_draft(body=FLAGGED_BODY, flags=[PROMISE])
    client.force_login(support_user)

    response = client.post(
        reverse("support:approve-bulk"), {"ids": [clean.pk, flagged.pk]}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("support:ticket-list")
    assert "Approved 1 reply" in response.text
    assert "Flagged, so not approved in bulk" in response.text
    assert statuses(clean, flagged) == [Status.APPROVED, Status.READY]


# --- The review screen ---------------------------------------------------------------------------


def test_the_review_screen_shows_the_thread_the_draft_its_flags_and_the_marked_excerpts(
    client, support_user
):
    draft = ticket_with_draft(
        body=FLAGGED_BODY,
        flags=[PROMISE, TRACKING],
        message="Where is my parcel? <b>Urgent</b>",
    )
    draft.cited_policy_ids = ["shipping-times"]
    draft.save()
    MessageFactory(ticket=draft.ticket, direction=Message.Direction.OUTBOUND, body="We're on it.")
    client.force_login(support_user)

    body = client.get(reverse("support:ticket", args=[draft.ticket_id])).text

    thread = body[body.index('data-testid="thread"') : body.index('id="draft-panel"')]
    assert "Where is my parcel? &lt;b&gt;Urgent&lt;/b&gt;" in thread
    assert 'data-testid="message-out"' in thread
    assert "We&#x27;re on it." in thread
    preview = body[body.index('data-testid="preview"') :]
    preview = preview[: preview.index("</div>")]
    assert '<mark data-flags="1" title="Flag 1">full refund</mark>' in preview
    assert '<mark data-flags="2" title="Flag 2">1Z000</mark>' in preview
    flags = body[body.index('data-testid="flags"') : body.index("</ol>")]
    assert escape(PROMISE["detail"]) in flags
    assert escape(TRACKING["detail"]) in flags
    assert flags.count('data-testid="flag-reason"') == 2
    assert 'name="reason-0"' in flags
    assert 'name="reason-1"' in flags
    assert (
        f'<textarea id="reply-body" class="reply" name="body" rows="12" maxlength="20000">{FLAGGED_BODY}'
        in body
    )


def test_the_review_screen_shows_the_facts_the_model_was_given_and_the_cited_policies(
    client, support_user
):
    draft = ticket_with_draft()
    draft.cited_policy_ids = ["shipping-times", "made-up-policy"]
    draft.save()
    order = draft.ticket.order
    client.force_login(support_user)

    body = client.get(reverse("support:ticket", args=[draft.ticket_id])).text

    facts = body[body.index('data-testid="order-facts"') :]
    assert f'<a href="{reverse("orders:detail", args=[order.pk])}">{order.name}</a>' in facts
    assert (
        '<a href="https://www.ups.com/track?tracknum=1Z999AA10123456784" rel="noopener noreferrer"'
        in facts
    )
    policies = body[body.index('data-testid="policies"') :]
    assert (
        '<li class="cited"><span class="badge info">cited</span> <span class="mono">shipping-times'
        in policies
    )
    assert '<li class=""><span class="mono">returns-30</span>' in policies
    assert 'Cited, but not in the brand guide: <span class="mono">made-up-policy' in policies


def test_a_tracking_url_that_is_not_http_is_shown_but_never_linked(client, support_user):
    draft = ticket_with_draft()
    snapshot = draft.context_snapshot
    snapshot["order"]["shipments"][0]["tracking_url"] = "javascript:alert(1)"
    ReplyDraft.objects.filter(pk=draft.pk).update(context_snapshot=snapshot)
    client.force_login(support_user)

    body = client.get(reverse("support:ticket", args=[draft.ticket_id])).text

    assert "javascript:" not in body
    assert "1Z999AA10123456784" in body


def test_highlight_escapes_the_text_and_the_excerpts_and_merges_overlaps():
    text = "<script>x</script> a FULL refund, a full refund and free"

    marked = highlight(text, [(0, "full refund"), (1, "refund and"), (2, "<script>")])

    assert marked == (
        '<mark data-flags="3" title="Flag 3">&lt;script&gt;</mark>x&lt;/script&gt; a '
        '<mark data-flags="1" title="Flag 1">FULL refund</mark>, a '
        '<mark data-flags="1 2" title="Flag 1 2">full refund and</mark> free'
    )
    assert str(highlight("a < b", [(0, "")])) == "a &lt; b"


def test_while_the_model_writes_the_panel_polls_and_stops_once_the_draft_is_ready(
    client, support_user
):
    draft = ticket_with_draft(status=Status.DRAFTING, body="")
    client.force_login(support_user)
    url = reverse("support:ticket", args=[draft.ticket_id])

    page = client.get(url).text
    poll = client.get(url, **HX)
    ReplyDraft.objects.filter(pk=draft.pk).update(status=Status.READY, body="Hi Ada, it ships.")
    ready = client.get(url, **HX)

    assert f'hx-get="{url}" hx-trigger="every 2s" hx-target="#draft-panel"' in page
    assert 'hx-trigger="every 2s"' in poll.text
    assert "<h1>" not in poll.text
    assert "HX-Request" in poll["Vary"]
    assert 'data-testid="order-facts"' not in poll.text
    assert 'hx-trigger="every 2s"' not in ready.text
    # The sources beside the thread arrive with the draft, swapped out of band.
    assert '<div id="sources" hx-swap-oob="true">' in ready.text
    assert 'data-testid="order-facts"' in ready.text
    assert "Hi Ada, it ships." in ready.text
    assert 'name="body"' in ready.text


def test_needs_human_and_failed_drafts_explain_themselves(client, support_user):
    human = ticket_with_draft(status=Status.NEEDS_HUMAN, body="")
    human.needs_human_reason = "The model's content filter stopped the prompt."
    human.save()
    failed = ticket_with_draft(status=Status.FAILED, body="")
    failed.error = "Azure OpenAI timed out after 3 attempts"
    failed.save()
    client.force_login(support_user)

    human_page = client.get(reverse("support:ticket", args=[human.ticket_id])).text
    failed_page = client.get(reverse("support:ticket", args=[failed.ticket_id])).text

    assert "Needs a human: The model&#x27;s content filter stopped the prompt." in human_page
    assert "Write the reply yourself below." in human_page
    assert 'name="body"' in human_page  # the agent writes it here
    assert "The draft could not be written: Azure OpenAI timed out after 3 attempts" in failed_page
    assert 'name="body"' not in failed_page
    assert 'data-testid="regenerate-form"' in failed_page
    assert 'data-testid="reject-form"' in failed_page


def test_ops_sees_the_review_screen_read_only_and_cannot_act(client, ops_user):
    draft = ticket_with_draft(body=FLAGGED_BODY, flags=[PROMISE])
    client.force_login(ops_user)

    page = client.get(reverse("support:ticket", args=[draft.ticket_id]))
    approve = client.post(reverse("support:approve", args=[draft.pk]), {"acknowledged": ["0"]})
    relink = client.post(
        reverse("support:relink", args=[draft.ticket_id]), {"order": OrderFactory().name}
    )

    assert page.status_code == 200
    assert escape(PROMISE["detail"]) in page.text
    assert 'name="body"' not in page.text
    assert 'name="acknowledged"' not in page.text
    assert "Approve &amp; send" not in page.text
    assert 'data-testid="relink-form"' not in page.text
    assert (approve.status_code, relink.status_code) == (403, 403)
    assert statuses(draft) == [Status.READY]
    assert not sends_for(draft).exists()


@pytest.mark.parametrize("persona", ["finance_user", "admin_user"])
def test_finance_and_admin_cannot_read_or_act_on_tickets(client, request, persona):
    draft = ticket_with_draft()
    client.force_login(request.getfixturevalue(persona))

    answers = [
        client.get(reverse("support:ticket", args=[draft.ticket_id])).status_code,
        client.post(reverse("support:approve", args=[draft.pk])).status_code,
        client.post(reverse("support:reject", args=[draft.pk]), {"reason": "x"}).status_code,
        client.post(reverse("support:regenerate", args=[draft.pk])).status_code,
        client.post(reverse("support:approve-bulk"), {"ids": [draft.pk]}).status_code,
    ]

    assert answers == [403] * 5
    assert statuses(draft) == [Status.READY]
    assert ReplyDraft.objects.count() == 1


# --- Approve, edit, reject, regenerate, relink ---------------------------------------------------


def test_approving_an_edited_draft_keeps_the_edited_text_audits_the_diff_and_queues_the_send(
    client, support_user
):
    draft = ticket_with_draft()
    edited = "Hi Ada,\n\nYour parcel left our warehouse on 21 November.\n\nThe team"
    client.force_login(support_user)

    response = client.post(reverse("support:approve", args=[draft.pk]), {"body": edited}, **HX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("support:ticket", args=[draft.ticket_id])
    draft.refresh_from_db()
    assert draft.status == Status.APPROVED
    assert draft.body == edited
    assert draft.model_reply == "Hi Ada,\n\nYour order is on its way.\n\nThe team"
    assert draft.approved_by == support_user
    diff = audited(draft, "reply_draft.edited").get().data["diff"]
    assert "-Your order is on its way." in diff
    assert "+Your parcel left our warehouse on 21 November." in diff
    assert audited(draft, "reply_draft.approved").get().data["body"] == edited
    send = sends_for(draft).get()
    assert send.status == OutboxMessage.Status.PENDING
    assert send.idempotency_key == f"mail.reply_send:{draft.pk}"


def test_approval_is_refused_while_a_flag_has_no_reason_and_nothing_is_queued(client, support_user):
    draft = ticket_with_draft(body=FLAGGED_BODY, flags=[PROMISE])
    # The edit adds an invented tracking number: the re-check flags it, and it has no reason.
    edited = FLAGGED_BODY + "\n\nYour new tracking number is 1Z999AA10123456799."
    client.force_login(support_user)

    response = client.post(
        reverse("support:approve", args=[draft.pk]),
        {"body": edited, "version": "1", "reason-0": "The refund was agreed by phone."},
        **HX,
    )

    assert response.status_code == 200
    assert not response.has_header("HX-Redirect")
    assert "1 flag(s) still open" in response.text
    # What the agent typed is still on the screen.
    assert "1Z999AA10123456799" in response.text
    assert 'value="The refund was agreed by phone."' in response.text
    draft.refresh_from_db()
    assert draft.status == Status.READY
    # The edit and the reason are kept (re-checked, so the flag it raises is shown); no approval.
    assert draft.body == edited.strip()
    assert draft.version == 2
    by_code = {flag["code"]: flag for flag in draft.flags}
    assert by_code["unapproved_commitment"]["reason"] == "The refund was agreed by phone."
    assert "reason" not in by_code["unknown_tracking_number"]
    assert not sends_for(draft).exists()
    assert audited(draft, "reply_draft.edited").exists()
    refused = audited(draft, "reply_draft.approval_refused").get()
    assert refused.data["unreasoned"] == [
        {"code": "unknown_tracking_number", "excerpt": "1Z999AA10123456799"}
    ]
    assert refused.data["reasons"][0]["reason"] == "The refund was agreed by phone."


def test_approval_with_a_reason_for_every_flag_goes_through(client, support_user):
    draft = ticket_with_draft(body=FLAGGED_BODY, flags=[PROMISE, TRACKING])
    client.force_login(support_user)

    response = client.post(
        reverse("support:approve", args=[draft.pk]),
        {
            "reason-1": "Carrier ref.",
            "reason-0": "Agreed by phone.",
            "reason-7": "x",
            "reason-x": "y",
        },
    )

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.APPROVED
    assert [flag["reason"] for flag in draft.flags] == ["Agreed by phone.", "Carrier ref."]
    assert audited(draft, "reply_draft.approved").get().data["reasons"] == [
        {"code": "unapproved_commitment", "excerpt": "full refund", "reason": "Agreed by phone."},
        {"code": "unknown_tracking_number", "excerpt": "1Z000", "reason": "Carrier ref."},
    ]
    assert sends_for(draft).count() == 1


def test_an_approval_of_a_version_someone_else_changed_is_refused(client, support_user):
    draft = ticket_with_draft()
    client.force_login(support_user)
    reply_draft_edit(actor=support_user, draft=draft, body="Hi Ada, B's text.")

    response = client.post(
        reverse("support:approve", args=[draft.pk]),
        {"body": "Hi Ada,\n\nYour order is on its way.\n\nThe team", "version": "1"},
    )

    assert response.status_code == 200
    assert "changed after you opened it" in response.text
    draft.refresh_from_db()
    assert (draft.status, draft.body, draft.version) == (Status.READY, "Hi Ada, B's text.", 2)
    assert not sends_for(draft).exists()


def test_an_approved_draft_cannot_be_approved_again(client, support_user):
    draft = ticket_with_draft()
    client.force_login(support_user)
    client.post(reverse("support:approve", args=[draft.pk]))

    again = client.post(reverse("support:approve", args=[draft.pk]), {"body": "Other text"})

    assert again.status_code == 200
    assert "Only a draft under review can be approved" in again.text
    draft.refresh_from_db()
    assert draft.body == "Hi Ada,\n\nYour order is on its way.\n\nThe team"
    assert sends_for(draft).count() == 1


def test_saving_an_edit_stores_the_text_and_its_diff_without_approving(client, support_user):
    draft = ticket_with_draft()
    client.force_login(support_user)

    response = client.post(
        reverse("support:edit", args=[draft.pk]), {"body": "Hi Ada,\r\nShorter.\r\n"}, **HX
    )

    assert response.status_code == 200
    assert 'data-testid="saved"' in response.text
    assert "<h1>" not in response.text
    draft.refresh_from_db()
    assert draft.body == "Hi Ada,\nShorter."
    assert draft.status == Status.READY
    assert "+Shorter." in audited(draft, "reply_draft.edited").get().data["diff"]
    assert not sends_for(draft).exists()


def test_rejecting_needs_a_reason(client, support_user):
    draft = ticket_with_draft()
    client.force_login(support_user)
    url = reverse("support:reject", args=[draft.pk])

    refused = client.post(url, {"reason": "   "}, **HX)
    rejected = client.post(url, {"reason": "Customer already called; resolved."}, **HX)

    assert refused.status_code == 200
    assert "Say why the draft is rejected." in refused.text
    assert rejected.status_code == 200
    assert rejected["HX-Redirect"] == reverse("support:ticket", args=[draft.ticket_id])
    draft.refresh_from_db()
    assert draft.status == Status.REJECTED
    assert draft.rejected_by == support_user
    assert draft.reject_reason == "Customer already called; resolved."
    event = audited(draft, "reply_draft.rejected").get()
    assert event.data == {"reason": "Customer already called; resolved."}
    assert not sends_for(draft).exists()


def test_regenerating_supersedes_the_draft_with_a_new_one_being_written(
    client, support_user, django_capture_on_commit_callbacks
):
    draft = ticket_with_draft()
    client.force_login(support_user)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("support:regenerate", args=[draft.pk]),
            {"instruction": "Mention the tracking link"},
        )

    assert response.status_code == 302
    new = draft.ticket.drafts.order_by("-created_at", "-id").first()
    assert new.pk != draft.pk
    assert new.status == Status.DRAFTING
    assert new.instruction == "Mention the tracking link"
    assert statuses(draft) == [Status.REJECTED]
    assert len(callbacks) == 1  # the drafting task, queued once the transaction commits
    page = client.get(reverse("support:ticket", args=[draft.ticket_id])).text
    assert 'hx-trigger="every 2s"' in page
    assert "with your instruction: “Mention the tracking link”" in page


def test_relinking_the_ticket_to_another_order(client, support_user):
    draft = ticket_with_draft()
    other = OrderFactory(name="#5150")
    client.force_login(support_user)
    url = reverse("support:relink", args=[draft.ticket_id])

    unknown = client.post(url, {"order": "#0000"})
    linked = client.post(url, {"order": "5150"})

    assert unknown.status_code == 200
    assert "No order is called #0000." in unknown.text
    assert linked.status_code == 302
    ticket = Ticket.objects.get(pk=draft.ticket_id)
    assert ticket.order == other
    assert ticket.linked_by == Ticket.LinkedBy.AGENT
    event = AuditEvent.objects.get(verb=verbs.TICKET_RELINKED, target_id=str(ticket.pk))
    assert event.data == {"from": draft.ticket.order.name, "to": "#5150"}
    page = client.get(reverse("support:ticket", args=[ticket.pk])).text
    assert 'data-testid="stale-order"' in page


# --- The form intake -----------------------------------------------------------------------------


def test_the_form_files_a_ticket_linked_to_the_named_order_and_asks_for_a_draft(
    client, support_user, django_capture_on_commit_callbacks
):
    order = OrderFactory(name="#7001", email="someone-else@example.com")
    client.force_login(support_user)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("support:ticket-new"),
            {
                "customer_email": "Grace@Example.com",
                "subject": "Phoned in: parcel missing",
                "message": "Customer says the parcel never came.",
                "order": "#7001",
            },
        )

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("support:ticket", args=[ticket.pk])
    assert ticket.source == "form"
    assert ticket.thread_id.startswith("form-")
    assert ticket.customer_email == "grace@example.com"
    assert ticket.order == order
    assert ticket.linked_by == Ticket.LinkedBy.AGENT
    assert ticket.messages.get().body == "Customer says the parcel never came."
    assert ticket.drafts.get().status == Status.DRAFTING
    assert len(callbacks) == 1
    filed = AuditEvent.objects.get(verb=verbs.TICKET_FILED, target_id=str(ticket.pk))
    assert filed.actor == support_user


def test_the_form_without_an_order_links_the_customers_latest_and_rejects_bad_input(
    client, support_user
):
    latest = OrderFactory(email="grace@example.com")
    client.force_login(support_user)
    url = reverse("support:ticket-new")

    invalid = client.post(url, {"customer_email": "not-an-email", "subject": "", "order": "#404"})
    filed = client.post(
        url, {"customer_email": "grace@example.com", "subject": "Hi", "message": "Where is it?"}
    )

    assert invalid.status_code == 200
    assert "Enter a valid email address." in invalid.text
    assert "No order is called #404." in invalid.text
    assert filed.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.order, ticket.linked_by) == (latest, Ticket.LinkedBy.LATEST_ORDER)


# --- The audit trail -----------------------------------------------------------------------------


def approved_with_edit_and_sent(client, user) -> ReplyDraft:
    draft = ticket_with_draft(body=FLAGGED_BODY, flags=[PROMISE])
    client.force_login(user)
    client.post(
        reverse("support:approve", args=[draft.pk]),
        {"body": FLAGGED_BODY.replace("full refund", "=HYPERLINK(1)"), "reason-0": "ok"},
    )
    draft.refresh_from_db()
    assert draft.status == Status.APPROVED
    # What the mail sender records once the email is accepted (apps/support/sending.py).
    ReplyDraft.objects.filter(pk=draft.pk).update(
        status=Status.SENT, sent_at=draft.approved_at, send_result="1 email(s) accepted"
    )
    audit_record(
        actor=user, verb=verbs.REPLY_DRAFT_SENT, target=draft, data={"to": "ada@example.com"}
    )
    audit_record(actor=user, verb=verbs.TICKET_RELINKED, target=draft.ticket, data={"to": "#1"})
    draft.refresh_from_db()
    return draft


def test_the_audit_page_shows_the_whole_trail_of_each_draft(client, support_user):
    draft = approved_with_edit_and_sent(client, support_user)
    earlier = ReplyDraftFactory(ticket=draft.ticket, status=Status.REJECTED, reject_reason="old")
    ReplyDraft.objects.filter(pk=earlier.pk).update(created_at=draft.created_at.replace(year=2025))
    unrelated = ticket_with_draft()
    audit_record(actor=support_user, verb=verbs.REPLY_DRAFT_REJECTED, target=unrelated)

    response = client.get(reverse("support:ticket-audit", args=[draft.ticket_id]))

    assert response.status_code == 200
    body = response.text
    section = body[body.index(f'id="draft-{draft.pk}"') : body.index(f'id="draft-{earlier.pk}"')]
    assert '<dd class="mono" data-testid="prompt-version">2026-11-26.1</dd>' in section
    assert (
        '<summary>Full prompt: system message</summary><pre data-testid="prompt-system">You draft'
        in section
    )
    assert "&lt;order_facts&gt;" in section  # the user prompt, escaped
    assert "&quot;tracking_number&quot;: &quot;1Z999AA10123456784&quot;" in section
    assert "gpt-4o-mini-2024-07-18" in section
    assert "812 in, 96 out" in section
    assert "640 ms" in section
    assert "&quot;intent&quot;: &quot;where_is_my_order&quot;" in section  # raw output, pretty
    assert "no flags" in section  # the edit took the promise out, and its flag with it
    assert f"by {support_user.email} at" in section
    assert "1 email(s) accepted" in section
    assert (
        '<span class="del">-We will send you a full refund today. Tracking: 1Z000.</span>'
        in section
    )
    assert (
        '<span class="add">+We will send you a =HYPERLINK(1) today. Tracking: 1Z000.</span>'
        in section
    )
    events = body[body.index('data-testid="audit-events"') :]
    for verb in (
        "reply_draft.edited",
        "reply_draft.approved",
        "reply_draft.sent",
        "ticket.relinked",
    ):
        assert f"<td>{verb}</td>" in events
    assert events.count("<td>reply_draft.rejected</td>") == 0  # another ticket's draft


def test_the_audit_csv_has_a_row_per_draft_and_per_event(client, support_user):
    draft = approved_with_edit_and_sent(client, support_user)

    response = client.get(reverse("support:ticket-audit-csv", args=[draft.ticket_id]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="ticket-{draft.ticket_id}-audit-'
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["record"] for row in rows] == ["draft", "event", "event", "event", "event"]
    trail = rows[0]
    assert trail["draft_id"] == str(draft.pk)
    assert trail["status"] == "sent"
    assert (trail["model"], trail["deployment"]) == ("gpt-4o-mini-2024-07-18", "gpt-4o-mini")
    assert (trail["prompt_tokens"], trail["completion_tokens"], trail["latency_ms"]) == (
        "812",
        "96",
        "640",
    )
    assert trail["approved_by"] == support_user.email
    assert trail["send_result"] == "1 email(s) accepted"
    assert json.loads(trail["flags"]) == []
    details = json.loads(trail["details"])
    assert details["prompt_system"].startswith("You draft")
    assert details["body"] == draft.body
    assert details["context_snapshot"]["order"]["name"] == draft.ticket.order.name
    verbs = [row["verb"] for row in rows[1:]]
    assert verbs == [
        "reply_draft.edited",
        "reply_draft.approved",
        "reply_draft.sent",
        "ticket.relinked",
    ]
    edited = rows[1]
    assert edited["actor"] == support_user.email
    assert "+We will send you a =HYPERLINK(1) today." in json.loads(edited["details"])["diff"]
    assert all(not value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())
