"""Agent A approves what A saw while agent B edits: the row lock and the version decide, on two
PostgreSQL connections (threads), and the text sent is always the approved text."""

import contextlib
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from apps.support.models import ReplyDraft
from apps.support.services import reply_draft_approve
from apps.sync.models import OutboxMessage
from tests.support.factories import ticket_with_draft

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SEEN = "Hi Ada,\n\nYour order is on its way.\n\nThe team"


def in_thread(target) -> threading.Thread:
    def run():
        try:
            target()
        finally:
            connection.close()  # each thread has its own connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_an_approval_waits_for_an_edit_in_progress_and_then_refuses_the_changed_text(
    support_user,
):
    draft = ticket_with_draft()
    locked, release = threading.Event(), threading.Event()

    def edit_by_b():
        with transaction.atomic():
            row = ReplyDraft.objects.select_for_update().get(pk=draft.pk)
            locked.set()
            release.wait(10)
            row.body, row.version = "Hi Ada, B's text: a full refund.", row.version + 1
            row.save()

    outcome = {}

    def approve_by_a():
        try:
            reply_draft_approve(actor=support_user, draft=draft, body=SEEN, version=1)
        except ValidationError as error:
            outcome["refused"] = " ".join(error.messages)

    b = in_thread(edit_by_b)
    assert locked.wait(10)
    a = in_thread(approve_by_a)
    time.sleep(0.5)
    assert a.is_alive()  # A waits on B's row lock, it does not read around it
    release.set()
    b.join(10)
    a.join(10)

    assert "changed after you opened it" in outcome["refused"]
    draft.refresh_from_db()
    assert draft.status == ReplyDraft.Status.READY
    assert draft.body == "Hi Ada, B's text: a full refund."
    assert not OutboxMessage.objects.filter(peer="mail").exists()


def test_of_twenty_races_every_approved_draft_holds_exactly_the_approvers_text(support_user):
    for _ in range(20):
        draft = ticket_with_draft()
        start = threading.Barrier(2)

        def approve_by_a(draft=draft, start=start):
            start.wait(10)
            with contextlib.suppress(ValidationError):
                reply_draft_approve(actor=support_user, draft=draft, body=SEEN, version=1)

        def edit_by_b(draft=draft, start=start):
            start.wait(10)
            with transaction.atomic():
                row = ReplyDraft.objects.select_for_update().get(pk=draft.pk)
                if row.status == ReplyDraft.Status.READY:
                    row.body, row.version = "B's text", row.version + 1
                    row.save()

        threads = [in_thread(approve_by_a), in_thread(edit_by_b)]
        for thread in threads:
            thread.join(10)
        draft.refresh_from_db()
        if draft.status == ReplyDraft.Status.APPROVED:
            assert draft.body == SEEN
        else:
            assert draft.body == "B's text"
            assert not OutboxMessage.objects.filter(payload__draft_id=draft.pk).exists()
