"""Factories shared by every test module (domain apps add theirs beside their tests)."""

import factory
from django.contrib.auth.models import Group

from apps.accounts.models import User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Faker("first_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if not create:
            return
        if extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))
            self.is_staff = self.is_staff or "Admin" in extracted
        self.save()  # also stores the password hash set by the post-generation call above

    @factory.post_generation
    def persist_password(self, create, extracted, **kwargs):
        # Without a role nothing above saves, and the hashed password would never reach the database.
        if create:
            self.save(update_fields=["password", "is_staff"])
