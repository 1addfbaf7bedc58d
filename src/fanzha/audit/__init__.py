"""The append-only audit log: every change and every view of personal data."""
