"""The validate report's problems: one per model, field and kind, values never repeated."""
from migration.engine.validation.target_check import general_problem, internal


def test_list_positions_and_string_values_are_left_out():
    assert general_problem("Message.attachments[12].mimeType: expected a string, found a int") == \
        "Message.attachments[].mimeType: expected a string, found a int"
    assert general_problem("User.role: the string 'alice@example.org' is not a value of enum "
                           "UserRole (ADMIN, USER)") == \
        "User.role: a string is not a value of enum UserRole (ADMIN, USER)"
    assert general_problem('User.role: the string "it\'s" is not a value of enum UserRole (USER)') == \
        "User.role: a string is not a value of enum UserRole (USER)"


def test_the_migrations_bookkeeping_is_not_application_data():
    assert [internal(n) for n in ("_migrations", "_quarantine", "_migrations_ledger.User",
                                  "system.views", "User")] == [True, True, True, True, False]
