"""Inline suppressions: ids and a reason are required; without a reason, reported."""

from __future__ import annotations

from verifyfull.scan import suppress


def test_same_line_suppression_with_reason() -> None:
    marks = suppress.parse("connect(dsn)  # verifyfull: ignore[VF102] unix socket only\n")
    assert marks.silences("VF102", 1)
    assert not marks.silences("VF101", 1)
    assert not marks.silences("VF102", 2)
    assert marks.problems == ()


def test_comment_alone_on_a_line_applies_to_the_next_line() -> None:
    text = "# verifyfull: ignore[VF101,VF102]: test database, no TLS by design\nconnect()\n"
    marks = suppress.parse(text)
    assert marks.silences("VF101", 2) and marks.silences("VF102", 2)
    assert not marks.silences("VF101", 1)


def test_prefixes_and_slugs_are_accepted() -> None:
    marks = suppress.parse("x  # verifyfull: ignore[VF1, weak-hash] legacy system\n")
    assert marks.silences("VF104", 1) and marks.silences("VF403", 1)


def test_suppression_without_reason_is_not_honoured_and_reported() -> None:
    marks = suppress.parse("connect(dsn)  # verifyfull: ignore[VF102]\n")
    assert not marks.silences("VF102", 1)
    assert len(marks.problems) == 1
    assert "has no reason" in marks.problems[0].message
    assert "ignore[VF102] <reason>" in marks.problems[0].message


def test_a_following_comment_is_not_a_reason() -> None:
    marks = suppress.parse("connect()  # verifyfull: ignore[VF102]  # noqa: E501\n")
    assert not marks.silences("VF102", 1)
    assert marks.problems


def test_suppression_without_ids_or_with_unknown_ids_is_reported() -> None:
    marks = suppress.parse("a  # verifyfull: ignore because\nb  # verifyfull: ignore[VF999] x\n")
    assert not marks.by_line
    messages = [p.message for p in marks.problems]
    assert "names no rule" in messages[0]
    assert "unknown rule" in messages[1]


def test_yaml_and_ini_comments_work_too() -> None:
    marks = suppress.parse("# verifyfull: ignore[VF201] throwaway dev cluster\ncommand: x\n")
    assert marks.silences("VF201", 2)
    marks = suppress.parse("; verifyfull: ignore[VF101] local only\nurl = x\n")
    assert marks.silences("VF101", 2)
