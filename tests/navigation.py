"""What each persona's navigation shows (shared by the layout and the browser tests)."""

EXPECTED_NAV = {
    "ops_user": [
        "Home",
        "Orders",
        "Holds",
        "Invoices",
        "Alerts",
        "Outbox",
        "Receipts",
        "Audit",
        "Sandbox",
    ],
    "support_user": ["Home", "Orders"],
    "finance_user": ["Home", "Orders", "Invoices"],
    "admin_user": ["Home", "Orders", "Alerts", "Audit", "Xero", "Sandbox", "Admin"],
    "outsider": ["Home"],
}
