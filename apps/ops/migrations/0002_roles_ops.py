from django.db import migrations

from apps.accounts.roles import roles_apply


class Migration(migrations.Migration):
    dependencies = [("ops", "0001_initial"), ("accounts", "0009_user_time_zone")]

    operations = [migrations.RunPython(roles_apply, migrations.RunPython.noop)]
