"""The permission each support page checks (the roles holding them: apps/accounts/roles.py)."""

VIEW = "support.view_ticket"
VIEW_DRAFT = "support.view_replydraft"
APPROVE = "support.approve_replydraft"
ADD = "support.add_ticket"
CHANGE = "support.change_ticket"
