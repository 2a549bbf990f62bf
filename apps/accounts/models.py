import zoneinfo

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class EmailUserManager(UserManager):
    """Users sign in with their email address; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        from apps.accounts.services import user_email_verify

        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        # Made by an administrator (createsuperuser, the admin): the address is the one they vouch for.
        user_email_verify(user=user)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


def time_zone_choices() -> list[tuple[str, str]]:
    return [("", "The portal's zone (TIME_ZONE)")] + [
        (name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())
    ]


class User(AbstractUser):
    username = None
    email = models.EmailField("email address", unique=True)
    # Pages show times in this zone; blank means settings.TIME_ZONE.
    time_zone = models.CharField(max_length=64, blank=True, choices=time_zone_choices)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = EmailUserManager()

    class Meta:
        ordering = ["email"]
        permissions = [("assign_roles", "Can change roles (groups, staff and superuser status)")]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def role_names(self) -> list[str]:
        return sorted(group.name for group in self.groups.all())
