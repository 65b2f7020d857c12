"""Form fields render as WTForms renders them: the intranet's html_params (web/forms.py) writes the
same attributes in the same bytes as WTForms' own, only faster, and every widget uses it."""

import importlib.util

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from wtforms import Form, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import core as widgets

from feedback_intranet.cases.actions import ACTIONS
from feedback_intranet.web.forms import html_params


def wtforms_own_html_params():
    """WTForms' function as it ships: its module loaded afresh, untouched by the intranet."""
    spec = importlib.util.spec_from_file_location("wtforms_widgets_as_shipped", widgets.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.html_params


SHIPPED = wtforms_own_html_params()
NAMES = st.sampled_from(["id", "name", "type", "value", "class_", "for_", "data_answer_required",
                         "aria_describedby", "aria-invalid", "required", "maxlength", "lang"])
TEXT = st.text(alphabet=st.sampled_from('aä"\'<>&= _-1\u00a0\u2028'), max_size=12)
VALUES = st.one_of(st.booleans(), st.integers(-5, 10**6), TEXT,
                   TEXT.map(Markup), st.none())


@settings(deadline=None, max_examples=500)
@given(st.dictionaries(NAMES, VALUES, max_size=6))
def test_the_same_bytes_as_wtforms_own(attributes):
    ours, theirs = html_params(**attributes), SHIPPED(**attributes)
    assert isinstance(ours, Markup)
    assert str(ours) == str(theirs)


class Sample(Form):
    hidden = HiddenField(default='1"2')
    text = StringField("Name", default="<Aino & Eino>")
    area = TextAreaField("Message", default='"quoted"')
    choice = SelectField("Unit", choices=[SelectChoice("a", "Turku <centre>"),
                                                 SelectChoice("b", '"B"')], default="b")


def test_every_widget_uses_it():
    assert widgets.html_params is html_params
    assert widgets.Input.html_params is html_params and widgets.Button.html_params is html_params
    form = Sample()
    rendered = [str(field(class_="x", data_answer_required=True)) for field in form]
    assert rendered == [
        '<input class="x" data-answer-required id="hidden" name="hidden" type="hidden" '
        'value="1&#34;2">',
        '<input class="x" data-answer-required id="text" name="text" type="text" '
        'value="&lt;Aino &amp; Eino&gt;">',
        '<textarea class="x" data-answer-required id="area" name="area">\r\n&#34;quoted&#34;'
        '</textarea>',
        '<select class="x" data-answer-required id="choice" name="choice">'
        '<option value="a">Turku &lt;centre&gt;</option>'
        '<option selected value="b">&#34;B&#34;</option></select>',
    ]


@pytest.mark.parametrize("csrf", [True, False])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_case_forms_hidden_fields_are_wtforms_own(app, action, csrf):
    """ActionForm.hidden_fields writes what rendering the three fields through WTForms did."""
    app.config["WTF_CSRF_ENABLED"] = csrf
    try:
        with app.test_request_context("/"):
            form = ACTIONS[action].form(prefix=action, formdata=None)
            form.version.data, form.token.data = 7, 'a"b<c'
            token = [str(form.csrf_token())] if csrf else []
            assert str(form.hidden_fields()) == "".join(
                [*token, str(form.version(type="hidden")), str(form.token())])
            assert str(form.hidden_fields(ids=False)) == "".join(
                [*token, str(form.version(type="hidden", id=False)), str(form.token(id=False))])
            if csrf:
                assert 'type="hidden" value="' in token[0] and f'id="{action}-csrf_token"' in token[0]
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
