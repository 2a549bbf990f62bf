from django.core.management.base import BaseCommand, CommandError

from o2c_portal.schedules import ScheduleDeclarationError, check_q_cluster, schedules_sync


class Command(BaseCommand):
    help = "Create, update and delete the django-q2 schedules we own so they match o2c_portal/schedules.py."

    def handle(self, *args, **options):
        errors = check_q_cluster()
        if errors:
            raise CommandError("; ".join(error.msg for error in errors))
        try:
            changes = schedules_sync()
        except ScheduleDeclarationError as error:
            raise CommandError(str(error)) from error
        for change in changes:
            self.stdout.write(f"schedules: {change}")
        counts = {kind: 0 for kind in ("created", "updated", "deleted", "unchanged")}
        for change in changes:
            counts[change.change] += 1
        summary = ", ".join(f"{count} {kind}" for kind, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"schedules: {summary}"))
