"""`halo-migrate verify` (placeholder until the evaluator lands)."""

from migrator.errors import MigrateError


def run_verify(checkout, args) -> int:
    raise MigrateError("verify is not available yet")
