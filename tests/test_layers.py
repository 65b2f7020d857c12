"""The layers the code keeps, read from each module's imports."""

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "feedback_intranet"


def imported_modules(path):
    """Every module `path` imports, as dotted names inside the package where relative."""
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_the_outbox_is_transport_only_and_imports_nothing_of_answers_or_cases():
    imports = imported_modules(PACKAGE / "outbox.py")
    above = sorted(name for name in imports
                   if name.startswith(("feedback_intranet.replies", "feedback_intranet.cases")))
    assert above == []


def test_each_reply_channel_is_a_module_with_the_same_interface():
    from feedback_intranet.models import ReplyChannel
    from feedback_intranet.replies.channels import CHANNELS

    assert set(CHANNELS) == set(ReplyChannel)
    for module in CHANNELS.values():
        assert all(callable(getattr(module, name, None))
                   for name in ("problem", "preview", "dispatch")), module.__name__


def test_cases_rules_never_reach_into_replies():
    for name in ("operations.py", "common.py"):
        imports = imported_modules(PACKAGE / "cases" / name)
        assert sorted(i for i in imports if i.startswith("feedback_intranet.replies")) == [], name


def test_every_rule_a_user_can_break_is_refused_with_the_one_refusal():
    """No module defines a refusal of its own beside refusals.Refusal."""
    own = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(base, ast.Name) and base.id == "ValueError" for base in node.bases):
                own.append(f"{path.relative_to(PACKAGE)}:{node.name}")
    assert own == ["refusals.py:Refusal"]


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def test_the_rules_are_pure():
    """rules/ imports no Flask, Flask-Babel, SQLAlchemy, models or services: nothing that needs
    an app, a request or a database, so its tests need none either."""
    web_or_data = ("flask", "flask_babel", "flask_login", "flask_wtf", "flask_sqlalchemy",
                   "sqlalchemy", "werkzeug", "jinja2")
    found = []
    for path in (PACKAGE / "rules").rglob("*.py"):
        for name in imported_modules(path):
            inside = name.startswith("feedback_intranet.")
            allowed_inside = name.startswith(("feedback_intranet.rules", "feedback_intranet.refusals"))
            if name.split(".")[0] in web_or_data or (inside and not allowed_inside):
                found.append(f"{path.name}: {name}")
    assert found == []


def test_nothing_below_the_views_imports_a_view():
    """Only the app factory wires the views in; a service or rule that needs a view's helper
    has it in the wrong place."""
    found = []
    for path, module in modules():
        if module == "feedback_intranet.__init__" or module.endswith(".views"):
            continue
        found += [f"{module}: {name}" for name in imported_modules(path)
                  if name.endswith(".views") or ".views." in name]
    assert found == []


def test_templates_hold_no_permission_rule():
    """Templates ask access.py (can_see_reports, can_administer, the case's action entries);
    they never decide what to offer from the user's own flags or memberships."""
    templates = PACKAGE.parent / "templates"
    decides = re.compile(r"{%-?\s*(?:if|elif)\b[^%]*current_user\.(?!is_authenticated)\w+")
    found = [f"{path.relative_to(templates)}: {match.group(0)}"
             for path in templates.rglob("*.html")
             for match in decides.finditer(path.read_text(encoding="utf-8"))]
    assert found == []


def test_every_case_action_the_rules_name_has_one_entry_in_the_table():
    """Whatever access.available_actions offers, in any state, is an entry of cases/actions.py,
    and every entry is offered in some state: no action is spelled in one place only."""
    from itertools import product
    from types import SimpleNamespace

    from feedback_intranet import access
    from feedback_intranet.cases.actions import ACTIONS

    offered = set()
    for status, lead, assignee, reply_wanted in product(
            ("new", "assigned", "answered", "closed"), (False, True), (None, 1, 2), (False, True)):
        user = SimpleNamespace(id=1, is_admin=False,
                               memberships=[SimpleNamespace(unit_id=7, is_team_lead=lead)])
        case = SimpleNamespace(status=status, is_open=status in ("new", "assigned"),
                               current_unit_id=7, service_unit_id=None, past_units=[],
                               anonymised_at=None, assignee_id=assignee, reply_wanted=reply_wanted)
        offered |= access.available_actions(user, case)
    assert offered == set(ACTIONS)
