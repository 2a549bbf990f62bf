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
        if not create or not extracted:
            return
        self.groups.set(Group.objects.filter(name__in=extracted))
        if "Admin" in extracted:
            self.is_staff = True
        self.save()
