-- See claim-plan.sql.
RESET enable_sort
