import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.accounts.models import User
from o2c_portal.management.commands.seed_demo import DEMO_USERS


def _state():
    return sorted(
        (user.email, user.role_names, user.is_staff, user.is_superuser, user.is_active)
        for user in User.objects.prefetch_related("groups")
    )


def test_seed_creates_one_user_per_role_with_the_printed_passwords(db, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert _state() == [
        ("admin@demo.local", ["Admin"], True, True, True),
        ("finance@demo.local", ["Finance"], False, False, True),
        ("ops@demo.local", ["Ops"], False, False, True),
        ("support@demo.local", ["Support"], False, False, True),
    ]
    for demo in DEMO_USERS:
        assert User.objects.get(email=demo.email).check_password(demo.password)
        assert demo.email in out
        assert demo.password in out


def test_seed_twice_is_the_same_and_repairs_a_changed_user(db):
    call_command("seed_demo")
    before = _state()
    ops = User.objects.get(email="ops@demo.local")
    ops.set_password("something-else")
    ops.is_active = False
    ops.save()
    ops.groups.clear()

    call_command("seed_demo")
    assert _state() == before
    assert User.objects.count() == 4
    assert User.objects.get(email="ops@demo.local").check_password("demo-ops-pass")


def test_seed_refuses_a_production_configuration(db, settings):
    settings.DEBUG = False
    settings.O2C_SANDBOX = False
    with pytest.raises(CommandError, match="DEBUG or O2C_SANDBOX"):
        call_command("seed_demo")
    assert not User.objects.exists()
