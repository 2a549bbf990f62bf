from django.apps import apps

# The sandbox app exists only with O2C_SANDBOX on (the default while DEBUG is on).
collect_ignore_glob = [] if apps.is_installed("apps.sandbox") else ["test_*.py", "urls.py"]
