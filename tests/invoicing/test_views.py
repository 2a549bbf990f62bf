"""Finance's pages: the draft queue and bulk approval, one draft, reconciliation and its CSV."""

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.invoicing.models import InvoiceDraft
from apps.invoicing.services import (
    invoice_draft_line_correct,
    invoice_draft_reject,
    invoice_drafts_approve,
)
from apps.sync.models import OutboxMessage
from tests.invoicing.factories import invoice_draft

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
Status = InvoiceDraft.Status
State = InvoiceDraft.Reconciliation


def detail_link(draft: InvoiceDraft) -> str:
    return f'href="{reverse("invoicing:detail", args=[draft.pk])}"'


def listed(body: str, drafts) -> set[str]:
    return {draft.reference for draft in drafts if detail_link(draft) in body}


def posts_for(draft: InvoiceDraft):
    return OutboxMessage.objects.filter(
        peer="xero", action="invoice_post", subject_id=str(draft.pk)
    )


def audited(draft: InvoiceDraft, verb: str):
    return AuditEvent.objects.filter(
        target_type="invoicing.invoicedraft", target_id=str(draft.pk), verb=verb
    )


def refreshed(*drafts: InvoiceDraft) -> list[str]:
    return [InvoiceDraft.objects.get(pk=draft.pk).status for draft in drafts]


# --- The queue -----------------------------------------------------------------------------------


def test_the_queue_opens_on_drafts_awaiting_approval_and_filters_by_status(client, finance_user):
    waiting = invoice_draft()
    approved = invoice_draft(status=Status.APPROVED)
    rejected = invoice_draft(status=Status.REJECTED)
    everyone = [waiting, approved, rejected]
    client.force_login(finance_user)
    url = reverse("invoicing:list")

    default = client.get(url).text
    only_approved = client.get(url, {"status": "approved"}).text
    every_status = client.get(url, {"status": "all"}).text
    unknown = client.get(url, {"status": "no-such-status"}).text

    assert listed(default, everyone) == {waiting.reference}
    assert listed(only_approved, everyone) == {approved.reference}
    assert listed(every_status, everyone) == {d.reference for d in everyone}
    assert listed(unknown, everyone) == {waiting.reference}
    assert '<option value="draft" selected>' in default


def test_variance_flags_show_and_the_toggle_keeps_only_flagged_drafts(client, finance_user):
    clean = invoice_draft()
    flagged = invoice_draft(variance="1.20")
    client.force_login(finance_user)
    url = reverse("invoicing:list")

    everything = client.get(url).text
    only_flagged = client.get(url, {"variance": "1"}).text

    assert listed(everything, [clean, flagged]) == {clean.reference, flagged.reference}
    assert everything.count('data-testid="variance"') == 1
    assert "variance 1.20" in everything
    assert listed(only_flagged, [clean, flagged]) == {flagged.reference}


def test_totals_are_per_currency_of_the_filtered_set(client, finance_user):
    invoice_draft(currency="GBP")
    invoice_draft(currency="GBP", variance="0.50")
    invoice_draft(currency="EUR")
    invoice_draft(currency="EUR", status=Status.REJECTED)  # not awaiting approval: not counted
    client.force_login(finance_user)
    url = reverse("invoicing:list")

    every_currency = client.get(url).text
    euros = client.get(url, {"currency": "eur"}).text

    totals = every_currency[every_currency.index('data-testid="draft-totals"') :]
    assert '96.00 GBP</strong> <span class="muted">in 2 drafts, tax 16.00' in totals
    assert "1 flagged" in totals
    assert '48.00 EUR</strong> <span class="muted">in 1 draft, tax 8.00' in totals
    euro_totals = euros[euros.index('data-testid="draft-totals"') : euros.index("</section>")]
    assert "48.00 EUR" in euro_totals
    assert "GBP" not in euro_totals


def test_the_queue_searches_by_order_name_reference_and_shipment_id(client, finance_user):
    target = invoice_draft(name="#1001")
    other = invoice_draft(name="#10010")
    client.force_login(finance_user)
    url = reverse("invoicing:list")
    shipment_id = str(target.shipment.shipbob_shipment_id)

    assert listed(client.get(url, {"q": "#1001"}).text, [target, other]) == {target.reference}
    assert listed(client.get(url, {"q": "1001"}).text, [target, other]) == {target.reference}
    by_reference = client.get(url, {"q": target.reference.lower()}).text
    assert listed(by_reference, [target, other]) == {target.reference}
    assert listed(client.get(url, {"q": shipment_id}).text, [target, other]) == {target.reference}
    assert "No drafts match." in client.get(url, {"q": "#9999"}).text


def test_an_htmx_request_gets_only_the_table_and_its_totals(client, finance_user):
    draft = invoice_draft()
    client.force_login(finance_user)

    response = client.get(reverse("invoicing:list"), **HX)

    assert response.status_code == 200
    assert "<h1>" not in response.text
    assert detail_link(draft) in response.text
    assert 'data-testid="draft-totals"' in response.text
    assert "HX-Request" in response["Vary"]


def test_ops_reads_the_queue_but_gets_no_checkboxes_or_approve_button(client, ops_user):
    draft = invoice_draft()
    client.force_login(ops_user)

    body = client.get(reverse("invoicing:list")).text

    assert detail_link(draft) in body
    assert 'name="ids"' not in body
    assert "Approve selected" not in body


def test_the_queue_runs_a_fixed_number_of_queries_however_many_drafts(
    client, finance_user, django_assert_max_num_queries
):
    for _ in range(3):
        invoice_draft()
    client.force_login(finance_user)
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("invoicing:list"))
    for n in range(57):
        invoice_draft(currency="EUR" if n % 2 else "GBP", variance="0.10" if n % 5 == 0 else "0.00")
    with django_assert_max_num_queries(10) as many:
        response = client.get(reverse("invoicing:list"))

    assert response.status_code == 200
    assert response.text.count('name="ids"') == 50
    assert "Page 1 of 2 · 60 rows" in response.text
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Bulk approval -------------------------------------------------------------------------------


def test_bulk_approval_approves_only_the_selected_drafts_without_a_variance(client, finance_user):
    first, second = invoice_draft(), invoice_draft()
    flagged = invoice_draft(variance="2.00")
    unselected = invoice_draft()
    client.force_login(finance_user)

    response = client.post(
        reverse("invoicing:approve-bulk"), {"ids": [first.pk, second.pk, flagged.pk, "x"]}, **HX
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "invoice-drafts-changed"
    assert "Approved 2 drafts" in response.text
    flagged_notice = response.text[response.text.index('data-testid="bulk-flagged"') :]
    assert flagged.reference in flagged_notice
    assert "2.00 GBP" in flagged_notice
    assert refreshed(first, second, flagged, unselected) == [
        Status.APPROVED,
        Status.APPROVED,
        Status.DRAFT,
        Status.DRAFT,
    ]
    for draft in (first, second):
        draft.refresh_from_db()
        assert draft.approved_by == finance_user
        assert posts_for(draft).get().payload == {
            "draft_id": draft.pk,
            "reference": draft.reference,
        }
        assert audited(draft, "invoice_draft.approved").get().actor == finance_user
    for draft in (flagged, unselected):
        assert not posts_for(draft).exists()
        assert not audited(draft, "invoice_draft.approved").exists()


def test_bulk_approval_leaves_drafts_no_longer_awaiting_approval_alone(client, finance_user):
    rejected = invoice_draft(status=Status.REJECTED)
    waiting = invoice_draft()
    client.force_login(finance_user)

    response = client.post(
        reverse("invoicing:approve-bulk"), {"ids": [rejected.pk, waiting.pk]}, **HX
    )

    assert "Approved 1 draft" in response.text
    assert "1 selected draft was no longer awaiting approval" in response.text
    assert refreshed(rejected, waiting) == [Status.REJECTED, Status.APPROVED]
    assert not posts_for(rejected).exists()


def test_bulk_approval_with_nothing_selected_says_so_and_changes_nothing(client, finance_user):
    draft = invoice_draft()
    client.force_login(finance_user)

    partial = client.post(reverse("invoicing:approve-bulk"), {}, **HX)
    page = client.post(reverse("invoicing:approve-bulk"), {"status": "draft"})

    assert partial.status_code == 200
    assert "Select at least one draft to approve." in partial.text
    assert "HX-Trigger" not in partial
    assert page.status_code == 200  # the queue again, with the error
    assert "Select at least one draft to approve." in page.text
    assert detail_link(draft) in page.text
    assert refreshed(draft) == [Status.DRAFT]


def test_bulk_approval_from_a_plain_form_goes_back_to_the_queue_with_a_message(
    client, finance_user
):
    draft = invoice_draft()
    flagged = invoice_draft(variance="-0.40")

    client.force_login(finance_user)
    response = client.post(
        reverse("invoicing:approve-bulk"), {"ids": [draft.pk, flagged.pk]}, follow=True
    )

    assert response.redirect_chain == [(reverse("invoicing:list"), 302)]
    assert "Approved 1 draft(s)" in response.text
    assert f"Not approved in bulk (variance against Shopify): {flagged.reference}" in response.text
    assert refreshed(draft, flagged) == [Status.APPROVED, Status.DRAFT]


@pytest.mark.parametrize("persona", ["ops", "support", "admin", "outsider"])
def test_only_finance_approves_in_bulk(client, personas, persona):
    draft = invoice_draft()
    client.force_login(personas[persona])

    response = client.post(reverse("invoicing:approve-bulk"), {"ids": [draft.pk]}, **HX)

    assert response.status_code == 403
    assert refreshed(draft) == [Status.DRAFT]
    assert not OutboxMessage.objects.exists()


# --- One draft -----------------------------------------------------------------------------------


def test_the_draft_page_shows_the_header_lines_their_source_and_history(client, finance_user):
    draft = invoice_draft(name="#1042", variance="0.30")
    line = draft.lines.get()
    invoice_draft_line_correct(
        actor=finance_user, line=line, account_code="201", tax_type="OUTPUT2"
    )
    client.force_login(finance_user)

    body = client.get(reverse("invoicing:detail", args=[draft.pk])).text

    header = body[body.index('data-testid="draft-header"') : body.index("</dl>")]
    assert reverse("orders:detail", args=[draft.order_id]) in header
    assert "#1042" in header
    assert str(draft.shipment.shipbob_shipment_id) in header
    assert draft.shipment.tracking_number in header
    assert "Ada Lovelace" in header
    assert draft.contact_number in header
    assert "invoice 2026-11-21, due 2026-11-21" in header
    assert "GBP, tax exclusive (Exclusive)" in header
    assert "48.00 GBP" in header
    assert "47.70 GBP" in header
    assert "variance 0.30" in header
    lines = body[body.index('data-testid="draft-lines"') : body.index('data-testid="decide"')]
    assert f"Shopify line:</span> {line.order_line.shopify_id}" in lines
    assert "SKU:</span> TEE-BLK-M" in lines
    assert "Units billable:</span> 2" in lines
    assert "Units billed before:</span> 0" in lines
    assert "Tax lines:</span> VAT 20%: 8.00" in lines
    assert "<td>20.00</td>" in lines  # the unit amount in cents unless it has 4 places
    assert 'name="account_code" value="201"' in lines
    history = body[body.index('data-testid="draft-audit"') :]
    assert "invoice_draft.line_corrected" in history
    assert finance_user.email in history
    assert "Approve 48.00 GBP" in body
    assert "hx-confirm" in body  # a variance asks before approving


def test_a_posted_draft_shows_its_xero_invoice_and_reconciliation(client, ops_user):
    posted = invoice_draft(status=Status.POSTED, reconciliation=State.MATCHED)
    failed = invoice_draft(status=Status.FAILED)
    InvoiceDraft.objects.filter(pk=failed.pk).update(
        post_error='Validation: Account code "999" is not a valid code for this document.'
    )
    client.force_login(ops_user)

    posted_page = client.get(reverse("invoicing:detail", args=[posted.pk])).text
    failed_page = client.get(reverse("invoicing:detail", args=[failed.pk])).text

    assert f"inv-{posted.shipment.shipbob_shipment_id}" in posted_page
    assert 'data-testid="reconciliation">Matched' in posted_page
    assert "Account code &quot;999&quot; is not a valid code" in failed_page
    for page in (posted_page, failed_page):
        assert 'name="account_code"' not in page  # codes are fixed once approved
        assert 'data-testid="decide"' not in page


def test_finance_approves_one_draft_even_with_a_variance(client, finance_user):
    draft = invoice_draft(variance="0.90")
    client.force_login(finance_user)

    response = client.post(reverse("invoicing:approve", args=[draft.pk]), **HX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("invoicing:list")
    draft.refresh_from_db()
    assert (draft.status, draft.approved_by) == (Status.APPROVED, finance_user)
    assert posts_for(draft).count() == 1
    assert audited(draft, "invoice_draft.approved").get().data["variance"] == "0.90"


def test_approving_twice_does_not_queue_a_second_post(client, finance_user):
    draft = invoice_draft()
    client.force_login(finance_user)

    client.post(reverse("invoicing:approve", args=[draft.pk]))
    again = client.post(reverse("invoicing:approve", args=[draft.pk]), follow=True)

    assert "was not approved: it is approved, posting, not awaiting approval" in again.text
    assert posts_for(draft).count() == 1
    assert audited(draft, "invoice_draft.approved").count() == 1


@pytest.mark.parametrize("persona", ["ops", "support", "admin"])
def test_only_finance_approves_rejects_or_corrects(client, personas, persona):
    draft = invoice_draft()
    line = draft.lines.get()
    client.force_login(personas[persona])

    approve = client.post(reverse("invoicing:approve", args=[draft.pk]))
    reject = client.post(reverse("invoicing:reject", args=[draft.pk]), {"reason": "wrong"})
    correct = client.post(
        reverse("invoicing:line-correct", args=[line.pk]),
        {"account_code": "999", "tax_type": "NONE"},
    )

    assert (approve.status_code, reject.status_code, correct.status_code) == (403, 403, 403)
    draft.refresh_from_db()
    line.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert (line.account_code, line.tax_type) == ("200", "OUTPUT2")
    assert not OutboxMessage.objects.exists()
    assert not AuditEvent.objects.filter(target_type="invoicing.invoicedraft").exists()


@pytest.mark.parametrize("persona", ["ops", "support", "admin", "outsider"])
def test_the_services_refuse_anyone_but_finance(personas, persona):
    draft = invoice_draft()
    user = personas[persona]

    with pytest.raises(PermissionDenied):
        invoice_drafts_approve(actor=user, drafts=[draft])
    with pytest.raises(PermissionDenied):
        invoice_draft_reject(actor=user, draft=draft, reason="no")
    with pytest.raises(PermissionDenied):
        invoice_draft_line_correct(
            actor=user, line=draft.lines.get(), account_code="1", tax_type="NONE"
        )
    assert refreshed(draft) == [Status.DRAFT]
    assert not OutboxMessage.objects.exists()


def test_rejecting_without_a_reason_shows_the_error_and_keeps_the_draft(client, finance_user):
    draft = invoice_draft()
    client.force_login(finance_user)
    url = reverse("invoicing:reject", args=[draft.pk])

    partial = client.post(url, {"reason": "   "}, **HX)
    page = client.post(url, {"reason": ""})

    assert partial.status_code == 200
    assert "<h1>" not in partial.text
    assert 'data-testid="reject-error">Say why the draft is rejected.' in partial.text
    assert page.status_code == 200
    assert "<h1>" in page.text
    assert 'data-testid="reject-error"' in page.text
    assert refreshed(draft) == [Status.DRAFT]
    assert not audited(draft, "invoice_draft.rejected").exists()


def test_rejecting_with_a_reason_records_it_and_nothing_posts(client, finance_user):
    draft = invoice_draft()
    client.force_login(finance_user)

    response = client.post(
        reverse("invoicing:reject", args=[draft.pk]), {"reason": "Duplicate of SHIP-1"}, **HX
    )

    assert response["HX-Redirect"] == reverse("invoicing:list")
    draft.refresh_from_db()
    assert (draft.status, draft.reject_reason, draft.rejected_by) == (
        Status.REJECTED,
        "Duplicate of SHIP-1",
        finance_user,
    )
    assert audited(draft, "invoice_draft.rejected").get().data == {"reason": "Duplicate of SHIP-1"}
    assert not posts_for(draft).exists()
    page = client.get(reverse("invoicing:detail", args=[draft.pk])).text
    assert 'data-testid="reject-reason">Duplicate of SHIP-1' in page


def test_correcting_a_line_answers_htmx_with_the_row_and_audits_it(client, finance_user):
    draft = invoice_draft()
    line = draft.lines.get()
    client.force_login(finance_user)

    response = client.post(
        reverse("invoicing:line-correct", args=[line.pk]),
        {"account_code": " 201 ", "tax_type": "EXEMPTOUTPUT"},
        **HX,
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "invoice-draft-changed"
    assert response.text.strip().startswith(f'<tr id="line-{line.pk}">')
    assert 'name="account_code" value="201"' in response.text
    assert 'data-testid="line-saved"' in response.text
    line.refresh_from_db()
    assert (line.account_code, line.tax_type) == ("201", "EXEMPTOUTPUT")
    event = audited(draft, "invoice_draft.line_corrected").get()
    assert event.actor == finance_user
    assert event.data["before"] == {"account_code": "200", "tax_type": "OUTPUT2"}
    assert event.data["after"] == {"account_code": "201", "tax_type": "EXEMPTOUTPUT"}


def test_an_empty_code_re_renders_the_row_with_the_error(client, finance_user):
    draft = invoice_draft()
    line = draft.lines.get()
    client.force_login(finance_user)
    url = reverse("invoicing:line-correct", args=[line.pk])

    partial = client.post(url, {"account_code": "", "tax_type": "OUTPUT2"}, **HX)
    page = client.post(url, {"account_code": "201", "tax_type": ""})

    assert partial.status_code == 200
    assert "HX-Trigger" not in partial
    assert "Account code and tax type are both required." in partial.text
    assert page.status_code == 200
    assert "<h1>" in page.text
    assert 'data-testid="line-error">Account code and tax type are both required.' in page.text
    line.refresh_from_db()
    assert (line.account_code, line.tax_type) == ("200", "OUTPUT2")
    assert not audited(draft, "invoice_draft.line_corrected").exists()


def test_codes_cannot_be_corrected_after_approval(client, finance_user):
    draft = invoice_draft(status=Status.APPROVED)
    line = draft.lines.get()
    client.force_login(finance_user)

    response = client.post(
        reverse("invoicing:line-correct", args=[line.pk]),
        {"account_code": "201", "tax_type": "OUTPUT2"},
        **HX,
    )

    assert response.status_code == 200
    assert "Codes can only be corrected before approval, or after Xero refused" in response.text
    assert 'name="account_code"' not in response.text
    line.refresh_from_db()
    assert line.account_code == "200"


def test_the_history_reloads_alone_for_htmx(client, finance_user):
    draft = invoice_draft()
    invoice_drafts_approve(actor=finance_user, drafts=[draft])
    client.force_login(finance_user)

    response = client.get(reverse("invoicing:detail", args=[draft.pk]), **HX)

    assert response.text.lstrip().startswith('<table class="compact" data-testid="draft-audit">')
    assert "invoice_draft.approved" in response.text


def test_the_draft_page_runs_a_fixed_number_of_queries(
    client, finance_user, django_assert_max_num_queries
):
    small = invoice_draft()
    large = invoice_draft()
    item = large.lines.get()
    for n in range(12):
        item.pk = None
        item.description = f"Extra line {n}"
        item.save()
    for code in ("201", "202", "203", "204"):
        invoice_draft_line_correct(actor=finance_user, line=item, account_code=code, tax_type="X")
    client.force_login(finance_user)

    with django_assert_max_num_queries(10) as few:
        client.get(reverse("invoicing:detail", args=[small.pk]))
    with django_assert_max_num_queries(10) as many:
        response = client.get(reverse("invoicing:detail", args=[large.pk]))

    assert response.text.count('name="account_code"') == 13
    assert response.text.count("invoice_draft.line_corrected") == 4
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Reconciliation ------------------------------------------------------------------------------


def test_the_report_counts_posted_drafts_by_state_and_filters(client, ops_user):
    matched = invoice_draft(status=Status.POSTED, reconciliation=State.MATCHED)
    missing = invoice_draft(status=Status.POSTED, reconciliation=State.MISSING)
    mismatched = invoice_draft(
        status=Status.POSTED, reconciliation=State.MISMATCHED, xero_total="47.99"
    )
    unchecked = invoice_draft(status=Status.POSTED)
    waiting = invoice_draft()  # not posted: not in the report
    every = [matched, missing, mismatched, unchecked, waiting]
    client.force_login(ops_user)
    url = reverse("invoicing:reconciliation")

    body = client.get(url).text
    only_mismatched = client.get(url, {"state": "mismatched"}).text

    assert "4 posted drafts" in body
    for state in ("matched", "missing", "mismatched", "unchecked"):
        assert f'data-testid="count-{state}">' in body
        assert (
            body.split(f'data-testid="count-{state}">')[1]
            .split("</a>")[0]
            .endswith("<strong>1</strong>")
        )
    assert listed(body, every) == {d.reference for d in every[:4]}
    assert listed(only_mismatched, every) == {mismatched.reference}
    assert "47.99 GBP" in only_mismatched
    assert "Check now" not in body  # Ops reads; Finance checks


def test_the_csv_export_lists_the_filtered_posted_drafts(client, finance_user):
    matched = invoice_draft(name="#2001", status=Status.POSTED, reconciliation=State.MATCHED)
    mismatched = invoice_draft(
        name="=HYPERLINK()",
        status=Status.POSTED,
        reconciliation=State.MISMATCHED,
        xero_total="40.00",
    )
    unchecked = invoice_draft(status=Status.POSTED)
    InvoiceDraft.objects.filter(pk=unchecked.pk).update(xero_total=None)
    invoice_draft()  # awaiting approval: never exported
    client.force_login(finance_user)
    url = reverse("invoicing:reconciliation-csv")

    everything = client.get(url)
    only_mismatched = client.get(url, {"state": "mismatched"})

    assert everything["Content-Type"] == "text/csv; charset=utf-8"
    assert everything["Content-Disposition"].startswith(
        'attachment; filename="xero-reconciliation-all-'
    )
    rows = list(csv.reader(io.StringIO(b"".join(everything.streaming_content).decode())))
    assert rows[0] == [
        "reference",
        "order",
        "currency",
        "our_total",
        "xero_total",
        "state",
        "checked_at",
    ]
    by_reference = {row[0]: row for row in rows[1:]}
    assert set(by_reference) == {matched.reference, mismatched.reference, unchecked.reference}
    assert by_reference[matched.reference] == [
        matched.reference,
        "#2001",
        "GBP",
        "48.00",
        "48.00",
        "matched",
        "2026-11-21T15:30:00+00:00",
    ]
    assert by_reference[unchecked.reference][4:] == ["", "unchecked", ""]
    # A cell a spreadsheet would run as a formula stays text.
    assert by_reference[mismatched.reference][1] == "'=HYPERLINK()"
    filtered = list(csv.reader(io.StringIO(b"".join(only_mismatched.streaming_content).decode())))
    assert [row[0] for row in filtered[1:]] == [mismatched.reference]
    assert filtered[1][3:6] == ["48.00", "40.00", "mismatched"]


# One pass per minute bucket: the clock stops at the end of a minute, where an unfrozen run of
# these tests could straddle two buckets and queue two passes.
END_OF_A_MINUTE = datetime(2026, 12, 4, 9, 41, 59, 900_000, tzinfo=UTC)


@time_machine.travel(END_OF_A_MINUTE, tick=False)
def test_check_now_queues_one_reconciliation_pass(client, finance_user):
    client.force_login(finance_user)
    url = reverse("invoicing:reconciliation-check")

    first = client.post(url, follow=True)
    client.post(url)

    assert first.redirect_chain == [(reverse("invoicing:reconciliation"), 302)]
    assert "Check queued" in first.text
    message = OutboxMessage.objects.get(peer="xero", action="invoices_reconcile")
    assert message.status == OutboxMessage.Status.PENDING  # the second press found it queued
    page = client.get(reverse("invoicing:reconciliation")).text
    assert "Last check:" in page
    assert "pending" in page


@time_machine.travel(END_OF_A_MINUTE, tick=False)
def test_check_now_after_this_minutes_pass_says_when_it_ran(client, finance_user):
    from apps.invoicing.posting import invoices_reconcile_enqueue

    message = invoices_reconcile_enqueue()
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.DONE, result={"matched": 3, "missing": 1, "mismatched": 0}
    )
    client.force_login(finance_user)

    response = client.post(reverse("invoicing:reconciliation-check"), follow=True)

    assert "This minute&#x27;s check already ran at 09:41 (done)" in response.text
    assert "3 matched, 1 missing, 0 mismatched" in response.text
    assert OutboxMessage.objects.filter(action="invoices_reconcile").count() == 1


def test_the_report_runs_a_fixed_number_of_queries(
    client, finance_user, django_assert_max_num_queries
):
    for _ in range(2):
        invoice_draft(status=Status.POSTED, reconciliation=State.MATCHED)
    client.force_login(finance_user)
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("invoicing:reconciliation"))
    for n in range(20):
        invoice_draft(
            status=Status.POSTED, reconciliation=State.MISSING if n % 3 else State.MATCHED
        )
    with django_assert_max_num_queries(10) as many:
        response = client.get(reverse("invoicing:reconciliation"))

    assert "22 posted drafts" in response.text
    assert len(many.captured_queries) == len(few.captured_queries)
