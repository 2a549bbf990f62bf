from typing import Any

from django.db import models

from apps.audit.models import AuditEvent


def audit_record(
    *,
    actor: Any | None,
    verb: str,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one audit row. `actor` is a user, or None with an `actor_label` such as "system:pump"."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = actor_label or (user.email if user else "system")
    target_type = target_id = target_label = ""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = str(target.pk)
        target_label = str(target)[:200]
    return AuditEvent.objects.create(
        actor=user,
        actor_label=label,
        verb=verb,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        data=data or {},
    )
