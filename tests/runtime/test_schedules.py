import pytest
from django.core.management import call_command
from django_q.models import Schedule

from apps.sync.tasks import PUMP_TASK
from o2c_portal.schedules import (
    MINUTES,
    ScheduleDeclaration,
    ScheduleDeclarationError,
    check_q_cluster,
    schedules_sync,
)

FUNC = "o2c_portal.views.healthz"  # any importable callable: the sync only stores the path


def _rows():
    return sorted(
        Schedule.objects.values_list("name", "func", "args", "schedule_type", "minutes", "repeats")
    )


def test_running_twice_gives_the_same_rows(db):
    declarations = [
        ScheduleDeclaration(name="sync.pump.shipbob", func=FUNC, args=("shipbob",)),
        ScheduleDeclaration(name="sync.pump.receipts", func=FUNC, args=("receipts",)),
    ]
    first = schedules_sync(declarations=declarations)
    rows = _rows()
    ids = sorted(Schedule.objects.values_list("id", flat=True))
    second = schedules_sync(declarations=declarations)

    assert [change.change for change in first] == ["created", "created"]
    assert [change.change for change in second] == ["unchanged", "unchanged"]
    assert _rows() == rows
    assert sorted(Schedule.objects.values_list("id", flat=True)) == ids
    assert ("sync.pump.shipbob", FUNC, "('shipbob',)", MINUTES, 1, -1) in rows


def test_a_changed_declaration_updates_its_row_in_place(db):
    schedules_sync(
        declarations=[ScheduleDeclaration(name="sync.pump.xero", func=FUNC, args=("xero",))]
    )
    row_id = Schedule.objects.get(name="sync.pump.xero").id
    changes = schedules_sync(
        declarations=[
            ScheduleDeclaration(name="sync.pump.xero", func=FUNC, args=("xero",), minutes=5)
        ]
    )
    assert [(c.change, c.fields) for c in changes] == [("updated", ("minutes",))]
    row = Schedule.objects.get(name="sync.pump.xero")
    assert (row.id, row.minutes) == (row_id, 5)


def test_owned_schedules_no_longer_declared_are_deleted_and_foreign_ones_kept(db):
    Schedule.objects.create(name="sync.pump.gone", func=FUNC, schedule_type=MINUTES, minutes=1)
    Schedule.objects.create(name="made by hand in the admin", func=FUNC, schedule_type="D")
    Schedule.objects.create(name=None, func=FUNC, schedule_type="D")
    changes = schedules_sync(declarations=[])
    assert [(c.name, c.change) for c in changes] == [("sync.pump.gone", "deleted")]
    assert set(Schedule.objects.values_list("name", flat=True)) == {
        None,
        "made by hand in the admin",
    }


def test_duplicate_rows_of_one_name_are_collapsed(db):
    for _ in range(2):
        Schedule.objects.create(
            name="sync.pump.teams", func=FUNC, args="('teams',)", minutes=1, schedule_type=MINUTES
        )
    changes = schedules_sync(
        declarations=[ScheduleDeclaration(name="sync.pump.teams", func=FUNC, args=("teams",))]
    )
    assert changes[0].change == "updated"
    assert "duplicates" in changes[0].fields
    assert Schedule.objects.filter(name="sync.pump.teams").count() == 1


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        (ScheduleDeclaration(name="pump.shipbob", func=FUNC), "must start with an app label"),
        (ScheduleDeclaration(name="sync.pump.x", func="apps.sync.nope.task"), "cannot import"),
        (ScheduleDeclaration(name="sync.pump.x", func=FUNC, minutes=0), "minutes >= 1"),
    ],
)
def test_bad_declarations_are_refused_before_any_write(db, declaration, message):
    with pytest.raises(ScheduleDeclarationError, match=message):
        schedules_sync(declarations=[declaration])
    assert not Schedule.objects.exists()


def test_command_syncs_one_pump_schedule_per_pump_name_and_is_idempotent(db, capsys):
    from apps.sync.pumps import pump_names

    call_command("schedules_sync")
    first = capsys.readouterr().out
    rows = _rows()
    call_command("schedules_sync")
    second = capsys.readouterr().out

    assert "receipts" in pump_names()
    pumps = Schedule.objects.filter(name__startswith="sync.pump.")
    assert sorted(pumps.values_list("name", flat=True)) == sorted(
        f"sync.pump.{name}" for name in pump_names()
    )
    assert set(pumps.values_list("func", "schedule_type", "minutes")) == {(PUMP_TASK, MINUTES, 1)}
    assert "created   sync.pump.receipts" in first
    assert "0 created, 0 updated, 0 deleted" in second
    assert _rows() == rows


def test_retry_must_exceed_timeout(settings):
    assert check_q_cluster() == []
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 120, "retry": 120}
    assert [error.id for error in check_q_cluster()] == ["o2c.E010"]


def test_pump_run_must_fit_inside_the_task_timeout(settings):
    settings.SYNC = {**settings.SYNC, "PUMP_RUN_SECONDS": 95.0}
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 90, "retry": 120}
    assert [error.id for error in check_q_cluster()] == ["o2c.E011"]
