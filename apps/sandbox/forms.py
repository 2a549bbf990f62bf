from django import forms

from apps.sandbox.models import SandboxFault

FAULT_FIELDS = [
    "enabled",
    "error_rate",
    "extra_latency_ms",
    "burst_429",
    "retry_after_seconds",
    "timeout_rate",
    "timeout_seconds",
]


class SandboxFaultForm(forms.ModelForm):
    class Meta:
        model = SandboxFault
        fields = FAULT_FIELDS
