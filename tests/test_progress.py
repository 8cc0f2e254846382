"""migrator.progress: drawn on a terminal only, silent everywhere else."""

import io

import pytest

from migrator.progress import Progress, enabled_for


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


class BrokenTTY(FakeTTY):
    def write(self, s):
        raise BrokenPipeError(32, "Broken pipe")


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture(autouse=True)
def plain_env(monkeypatch):
    import migrator.progress

    monkeypatch.setattr(migrator.progress, "_QUIET", False)  # an earlier in-process --quiet run sets it
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("CI", raising=False)


# ---- enabled_for ------------------------------------------------------------------------------


def test_enabled_only_on_a_tty():
    assert enabled_for(FakeTTY(), quiet=False) is True
    assert enabled_for(io.StringIO(), quiet=False) is False
    assert enabled_for(object(), quiet=False) is False  # no isatty at all


def test_quiet_disables():
    assert enabled_for(FakeTTY(), quiet=True) is False


@pytest.mark.parametrize("var,value,enabled", [
    ("NO_COLOR", "1", False),
    ("NO_COLOR", "anything", False),
    ("NO_COLOR", "", True),  # no-color.org: only a non-empty value counts
    ("CI", "true", False),
    ("CI", "1", False),
    ("CI", "false", True),
    ("CI", "0", True),
    ("CI", "", True),
])
def test_environment(monkeypatch, var, value, enabled):
    monkeypatch.setenv(var, value)
    assert enabled_for(FakeTTY(), quiet=False) is enabled


def test_explicit_environ_mapping_wins_over_os_environ(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert enabled_for(FakeTTY(), False, environ={}) is True
    assert enabled_for(FakeTTY(), False, environ={"NO_COLOR": "1"}) is False


def test_closed_stream_is_not_a_tty():
    class Closed(io.StringIO):
        def isatty(self):
            raise ValueError("I/O operation on closed file")

    assert enabled_for(Closed(), False) is False


def test_defaults_to_sys_stderr(monkeypatch):
    import sys

    monkeypatch.setattr(sys, "stderr", FakeTTY())
    assert enabled_for() is True
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert enabled_for() is False


# ---- Progress ---------------------------------------------------------------------------------


def test_non_tty_gets_no_output_at_all():
    s = io.StringIO()
    with Progress(3, "parsing", enabled_for(s, False), stream=s) as p:
        for _ in range(3):
            p.advance()
        p.message("a note")
    assert s.getvalue() == ""
    assert p.done == 3


def test_auto_enabled_follows_the_stream():
    s = io.StringIO()
    with Progress(2, "x", stream=s) as p:
        p.advance(2)
    assert p.enabled is False and s.getvalue() == ""
    t = FakeTTY()
    with Progress(2, "x", stream=t) as p:
        p.advance(2)
    assert p.enabled is True and t.getvalue()


def test_tty_gets_carriage_return_updates_and_a_clean_line_at_the_end():
    s = FakeTTY()
    with Progress(4, "parsing", True, stream=s, min_interval=0) as p:
        p.advance()
        p.advance(3)
    out = s.getvalue()
    assert "\n" not in out
    frames = out.split("\r")
    assert frames[0] == ""
    assert frames[1] == "parsing: 0/4 (0%)"
    assert frames[2] == "parsing: 1/4 (25%)"
    assert frames[3] == "parsing: 4/4 (100%)"
    # cleared: blanks over the last line, cursor back at column 0
    assert out.endswith("\r" + " " * len("parsing: 4/4 (100%)") + "\r")


def test_shorter_line_is_padded_over_the_longer_one():
    s = FakeTTY()
    with Progress(None, "a-long-label", True, stream=s, min_interval=0) as p:
        p.label = "x"
        p.advance()
    frames = s.getvalue().split("\r")
    assert frames[2] == "x: 1" + " " * (len("a-long-label: 0") - len("x: 1"))


def test_unknown_total_shows_a_count():
    for total in (None, 0):
        s = FakeTTY()
        with Progress(total, "files", True, stream=s, min_interval=0) as p:
            p.advance(5)
        assert "\rfiles: 5" in s.getvalue() and "%" not in s.getvalue()


def test_redraws_are_rate_limited_but_the_last_one_is_drawn():
    s, clock = FakeTTY(), Clock()
    with Progress(100, "n", True, stream=s, min_interval=0.5, clock=clock) as p:
        for i in range(99):
            clock.now += 0.01
            p.advance()
        drawn_before_end = s.getvalue().count("\r")
        p.advance()  # reaches total: always drawn
        assert s.getvalue().endswith("\rn: 100/100 (100%)")
    assert drawn_before_end <= 3  # first draw + at most two more in ~1 s at 0.5 s intervals


def test_message_keeps_the_status_line_intact():
    s = FakeTTY()
    with Progress(2, "scan", True, stream=s, min_interval=0) as p:
        p.advance()
        p.message("warning: something")
    out = s.getvalue()
    assert "\r" + " " * len("scan: 1/2 (50%)") + "\rwarning: something\n\rscan: 1/2 (50%)" in out


def test_exception_propagates_and_the_line_is_cleared():
    s = FakeTTY()
    with pytest.raises(KeyError):
        with Progress(2, "scan", True, stream=s) as p:
            p.advance()
            raise KeyError("boom")
    assert s.getvalue().endswith("\r")


def test_disabled_progress_writes_nothing_even_on_a_tty():
    s = FakeTTY()
    with Progress(2, "scan", False, stream=s) as p:
        p.advance(2)
        p.message("note")
    assert s.getvalue() == ""


def test_broken_stream_disables_instead_of_failing():
    s = BrokenTTY()
    with Progress(2, "scan", True, stream=s) as p:
        p.advance(2)
    assert p.enabled is False and p.done == 2


def test_long_lines_are_cut_to_the_terminal(monkeypatch):
    import os
    import shutil

    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=(80, 24): os.terminal_size((20, 5)))
    s = FakeTTY()
    with Progress(10, "a very long label that does not fit", True, stream=s, min_interval=0):
        pass
    assert max(len(f) for f in s.getvalue().split("\r")) <= 19


def test_default_stream_is_sys_stderr(monkeypatch, capsys):
    with Progress(1, "x", True) as p:
        p.advance()
    assert "\rx: 1/1 (100%)" in capsys.readouterr().err
