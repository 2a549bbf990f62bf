"""What each persona's navigation shows (shared by the layout and the browser tests)."""

EXPECTED_NAV = {
    "ops_user": [
        "Home",
        "Orders",
        "Holds",
        "Inventory",
        "Invoices",
        "Tickets",
        "Alerts",
        "Outbox",
        "Receipts",
        "Audit",
        "Sandbox",
        "Mailbox",
    ],
    "support_user": ["Home", "Orders", "Inventory", "Tickets", "Mailbox"],
    "finance_user": ["Home", "Orders", "Inventory", "Invoices"],
    "admin_user": [
        "Home",
        "Orders",
        "Inventory",
        "Alerts",
        "Audit",
        "Xero",
        "Sandbox",
        "Mailbox",
        "Admin",
    ],
    "outsider": ["Home"],
}
