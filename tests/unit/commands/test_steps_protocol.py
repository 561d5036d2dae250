"""A step's result is the last non-empty stdout line, one JSON object (steps/protocol.py)."""
from steps.protocol import print_result, result_of


def test_the_result_is_the_last_line_whatever_was_logged_before(capsys):
    print("dumping meeshy ...")
    print_result({"healthy": True, "elapsedSeconds": 1.5})
    print()
    assert result_of(capsys.readouterr().out) == {"elapsedSeconds": 1.5, "healthy": True}


def test_a_step_that_printed_nothing_has_no_result():
    assert result_of("") is None and result_of(None) is None and result_of("\n  \n") is None
