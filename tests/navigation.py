"""What each persona's navigation shows (shared by the layout and the browser tests)."""

EXPECTED_NAV = {
    "ops_user": [
        "Home",
        "Dashboard",
        "Exceptions",
        "Orders",
        "Holds",
        "Invoices",
        "Tickets",
        "Alerts",
        "Outbox",
        "Receipts",
        "Audit",
        "Sandbox",
        "Mailbox",
    ],
    "support_user": ["Home", "Orders", "Tickets", "Mailbox"],
    "finance_user": ["Home", "Orders", "Invoices"],
    "admin_user": [
        "Home",
        "Dashboard",
        "Orders",
        "Alerts",
        "Audit",
        "Xero",
        "Sandbox",
        "Mailbox",
        "Admin",
    ],
    "outsider": ["Home"],
}
