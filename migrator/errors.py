"""Every failure a user can see, one type each. The CLI maps each to one stderr line and exit 2."""

from __future__ import annotations


class MigrateError(Exception):
    """Base: a refusal with a one-line, user-facing message."""

    exit_code = 2
    kind = "error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def line(self) -> str:
        return f"halo-migrate: {self.kind}: {self.message}"


class BadPath(MigrateError):
    kind = "bad path"


class NotACheckout(MigrateError):
    kind = "not a checkout"


class NotGitRepo(MigrateError):
    kind = "not a git repository"


class DirtyFiles(MigrateError):
    kind = "uncommitted changes"


class UnsafePath(MigrateError):
    kind = "unsafe path"


class ParseFailure(MigrateError):
    kind = "parse failure"


class UnresolvedBinding(MigrateError):
    kind = "unresolved binding"


class ThreadingBlocked(MigrateError):
    kind = "threading blocked"


class UnsupportedShape(MigrateError):
    kind = "unsupported code shape"


class EditConflict(MigrateError):
    kind = "edit conflict"


class TemplateError(MigrateError):
    kind = "template error"


class PostconditionFailed(MigrateError):
    kind = "postcondition failed"


class GitFailure(MigrateError):
    kind = "git failure"


class BranchExists(MigrateError):
    kind = "branch exists"


class RecoveryNeeded(MigrateError):
    kind = "interrupted apply"


class CheckoutBusy(MigrateError):
    kind = "checkout busy"


class UsageError(MigrateError):
    kind = "usage"
