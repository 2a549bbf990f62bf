"""Read and switch the stand-in model's behaviour (tests, the /sandbox/openai/ page, the JSON API)."""

from apps.sandbox.openai.models import SandboxModelBehaviour


def behaviour_get() -> SandboxModelBehaviour:
    """The current behaviour; an unsaved `normal` row until someone sets one."""
    found = SandboxModelBehaviour.objects.filter(pk=SandboxModelBehaviour.SINGLETON_ID).first()
    return found or SandboxModelBehaviour(mode=SandboxModelBehaviour.Mode.NORMAL)


def behaviour_set(*, mode: str) -> SandboxModelBehaviour:
    """Switch every following call to `mode` (one of SandboxModelBehaviour.Mode)."""
    if mode not in SandboxModelBehaviour.Mode.values:
        raise ValueError(f"unknown stand-in model mode {mode!r}")
    behaviour, _ = SandboxModelBehaviour.objects.update_or_create(
        pk=SandboxModelBehaviour.SINGLETON_ID, defaults={"mode": mode}
    )
    return behaviour
