"""Support reviews a flagged AI draft in the browser: is refused past an invented tracking number,
writes a reason, approves; and
watches a draft arrive while the model writes it (htmx polling), all under the CSP."""

import pytest

from apps.audit.models import AuditEvent
from apps.support.models import ReplyDraft
from apps.sync.models import OutboxMessage
from tests.factories import PASSWORD
from tests.support.factories import ticket_with_draft

pytestmark = pytest.mark.browser

FLAGGED_BODY = (
    "Hi Ada,\n\nYour order is on its way: tracking number 1Z999AA10123456799.\n\nThe team"
)


def test_support_cannot_approve_past_an_invented_tracking_number_until_a_reason_is_written(
    page, live_server, support_user, sign_in_as, screenshot_dir
):
    draft = ticket_with_draft(
        body=FLAGGED_BODY,
        flags=[
            {
                "code": "unknown_tracking_number",
                "detail": 'The reply gives a tracking or reference number ("1Z999AA10123456799") '
                "that is not in this order's shipments.",
                "excerpt": "1Z999AA10123456799",
            }
        ],
        subject="Where is my parcel?",
    )
    ReplyDraft.objects.filter(pk=draft.pk).update(
        claims=[
            {
                "kind": "order",
                "excerpt": "Your order",
                "verified": True,
                "source": "the ticket's order",
            },
            {"kind": "tracking", "excerpt": "1Z999AA10123456799", "verified": False, "source": ""},
        ]
    )
    sign_in_as(page, support_user.email, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("link", name="Tickets").first.click()
    page.wait_for_url("**/support/")
    page.get_by_role("link", name="Where is my parcel?").click()
    page.wait_for_url(f"**/support/{draft.ticket_id}/")
    page.get_by_test_id("preview").locator("mark", has_text="1Z999AA10123456799").wait_for()
    page.get_by_test_id("verified-claims").get_by_text("the ticket's order").wait_for()
    # caret="initial": hiding the caret leaves style="" on inputs, which htmx copies on a swap and
    # the CSP then refuses.
    page.screenshot(path=screenshot_dir / "support-review.png", full_page=True, caret="initial")

    # Approving past the invented number without a reason is refused, in place; nothing queued.
    page.get_by_role("button", name="Approve & send").click()
    page.get_by_test_id("approve-error").get_by_text("1 flag(s) still open").wait_for()
    assert not OutboxMessage.objects.filter(peer="mail").exists()
    assert AuditEvent.objects.filter(verb="reply_draft.approval_refused").count() == 1
    page.screenshot(path=screenshot_dir / "support-refused.png", full_page=True, caret="initial")

    page.get_by_label("Reason flag 1 may stand").fill("The carrier gave this number by phone.")
    page.get_by_role("button", name="Approve & send").click()

    page.get_by_test_id("approved").wait_for()
    status = page.get_by_test_id("draft-status").inner_text()
    assert status in ("Approved, sending", "Sent")
    draft.refresh_from_db()
    assert draft.status in (ReplyDraft.Status.APPROVED, ReplyDraft.Status.SENT)
    assert draft.body == FLAGGED_BODY
    assert draft.approved_by == support_user
    assert draft.flags[0]["reason"] == "The carrier gave this number by phone."
    assert OutboxMessage.objects.filter(peer="mail", action="reply_send").count() == 1
    page.screenshot(path=screenshot_dir / "support-approved.png", full_page=True, caret="initial")
    assert not page.console_errors, page.console_errors


def test_the_draft_panel_fills_in_by_itself_when_the_model_finishes(
    page, live_server, support_user, sign_in_as, screenshot_dir
):
    draft = ticket_with_draft(status=ReplyDraft.Status.DRAFTING, body="")
    sign_in_as(page, support_user.email, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"/support/{draft.ticket_id}/")
    page.get_by_test_id("drafting").wait_for()
    page.evaluate("window.__same_document = true")  # survives only if htmx swaps, not a reload

    ReplyDraft.objects.filter(pk=draft.pk).update(
        status=ReplyDraft.Status.READY, body="Hi Ada, your order ships today.\n\nThe team"
    )

    page.get_by_test_id("preview").get_by_text("your order ships today").wait_for()
    page.get_by_test_id("thread").locator("..").get_by_test_id("order-facts").wait_for()
    assert page.get_by_test_id("drafting").count() == 0
    assert page.evaluate("window.__same_document") is True
    page.screenshot(path=screenshot_dir / "support-drafted.png", full_page=True, caret="initial")
    assert not page.console_errors, page.console_errors
