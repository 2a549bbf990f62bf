"""Finance signs in with TOTP and approves two drafts from the queue through htmx, under the CSP."""

import pytest

from apps.invoicing.models import InvoiceDraft
from apps.sync.models import OutboxMessage
from tests.factories import PASSWORD
from tests.invoicing.factories import invoice_draft

pytestmark = pytest.mark.browser


def test_finance_approves_two_selected_drafts_and_they_leave_the_queue(
    page, live_server, finance_user, sign_in_as, screenshot_dir
):
    first, second = invoice_draft(name="#3001"), invoice_draft(name="#3002")
    flagged = invoice_draft(name="#3003", variance="1.50")
    untouched = invoice_draft(name="#3004")
    sign_in_as(page, finance_user.email, PASSWORD, totp_user=finance_user)
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("link", name="Invoices").first.click()
    page.wait_for_url("**/invoicing/")
    page.screenshot(path=screenshot_dir / "invoices-queue.png", full_page=True)
    page.evaluate("window.__same_document = true")  # survives only if htmx swaps, not a reload

    page.get_by_label(f"Select {first.reference}").check()
    page.get_by_label(f"Select {second.reference}").check()
    page.get_by_label(f"Select {flagged.reference}").check()
    page.get_by_role("button", name="Approve selected").click()

    page.get_by_test_id("bulk-done").get_by_text("Approved 2 drafts").wait_for()
    page.get_by_test_id("bulk-flagged").get_by_text(flagged.reference).wait_for()
    # The queue reloads itself (HX-Trigger): the approved drafts are gone, the others stay.
    table = page.get_by_test_id("drafts-table")
    table.get_by_role("link", name=first.reference).wait_for(state="detached")
    assert table.get_by_role("link", name=second.reference).count() == 0
    assert table.get_by_role("link", name=flagged.reference).count() == 1
    assert table.get_by_role("link", name=untouched.reference).count() == 1
    assert page.evaluate("window.__same_document") is True
    statuses = dict(InvoiceDraft.objects.values_list("reference", "status"))
    assert statuses == {
        first.reference: "approved",
        second.reference: "approved",
        flagged.reference: "draft",
        untouched.reference: "draft",
    }
    assert OutboxMessage.objects.filter(peer="xero", action="invoice_post").count() == 2
    page.screenshot(path=screenshot_dir / "invoices-approved.png", full_page=True)

    page.get_by_test_id("bulk-flagged").get_by_role("link", name=flagged.reference).click()
    page.get_by_test_id("variance").wait_for()
    page.screenshot(path=screenshot_dir / "invoice-draft.png", full_page=True)
    assert not page.console_errors, page.console_errors
