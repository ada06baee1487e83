"""Audit verbs of the organisation tree, people and delegations."""

AGENCY_CREATED = "agency.created"
AGENCY_CHANGED = "agency.changed"
UNIT_CREATED = "unit.created"
UNIT_CHANGED = "unit.changed"
USER_CREATED = "user.created"
USER_CHANGED = "user.changed"
DELEGATION_CREATED = "delegation.created"
DELEGATION_CHANGED = "delegation.changed"
DELEGATION_REVOKED = "delegation.revoked"
# Every session and API token of the person ended ("log out everywhere"; a password change or a
# deactivation records it in its user.changed event as `sessions_revoked`).
USER_SESSIONS_REVOKED = "user.sessions_revoked"
# Log-in locked after repeated failures (per account or per address), and unlocked by an administrator.
LOGIN_LOCKED = "login.locked"
LOGIN_UNLOCKED = "login.unlocked"
# Two-factor authentication (accounts.two_factor): a person enrols, renews their backup codes or removes their
# second factor; an administrator resets a person's (accounts.services.reset_second_factor).
OTP_ENROLLED = "otp.enrolled"
OTP_BACKUP_CODES_REGENERATED = "otp.backup_codes_regenerated"
OTP_REMOVED = "otp.removed"
OTP_RESET = "otp.reset"
# A wrong or replayed one-time code at log-in (web) or for an API token: who, where (signing has its own,
# signatures.signing_code_refused).
OTP_CODE_REFUSED = "otp.code_refused"
# A password reset link was mailed to the person (accounts.password_reset; the new password itself is recorded as
# user.changed with `password_reset_by_email`).
PASSWORD_RESET_MAILED = "password.reset_mailed"
# An administrator had a reset link mailed to the person (accounts.password_reset.mail_reset_link).
PASSWORD_RESET_LINK_SENT = "password.reset_link_sent"
