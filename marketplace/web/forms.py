"""Flask-WTF forms of the account pages, with German labels and messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from ..accounts import MIN_PASSWORD_LENGTH
from ..control_characters import CONTROL_MESSAGE, has_control_characters

# Deliberately simple: the address is only compared with stored ones, never mailed from here.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class GermanForm(FlaskForm):
    """Base form: WTForms' built-in messages in German (no Flask-Babel needed). Use for every form.

    Every field refuses control characters (`marketplace.control_characters`): such a field gets
    only that message, whatever its other validators said. Views using these forms are marked
    `@checks_text_fields`, so the request-wide guard leaves the message to the form.
    """

    class Meta(FlaskForm.Meta):
        locales = ["de_DE", "de"]

        def get_translations(self, form: Any) -> Any:
            return DefaultMeta.get_translations(self, form)

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        refused = [field for field in self
                   if any(isinstance(raw, str) and has_control_characters(raw) for raw in field.raw_data or ())]
        for field in refused:  # validators (some ask the database) and the view see an empty field instead
            field.data = "" if isinstance(field.data, str) else None
        valid = super().validate(extra_validators)
        for field in refused:
            field.errors = [CONTROL_MESSAGE]
        return valid and not refused


class LoginForm(GermanForm):
    """Anmeldung mit E-Mail-Adresse und Passwort."""

    email = EmailField(
        "E-Mail-Adresse",
        validators=[
            DataRequired("Bitte geben Sie Ihre E-Mail-Adresse ein."),
            Regexp(EMAIL_PATTERN, message="Bitte geben Sie eine gültige E-Mail-Adresse ein."),
            Length(max=254, message="Die E-Mail-Adresse ist zu lang."),
        ],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        "Passwort",
        validators=[
            DataRequired("Bitte geben Sie Ihr Passwort ein."),
            Length(max=1024, message="Das Passwort ist zu lang."),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordChangeForm(GermanForm):
    """Passwort ändern: aktuelles Passwort und das neue zweimal."""

    current_password = PasswordField(
        "Aktuelles Passwort",
        validators=[DataRequired("Bitte geben Sie Ihr aktuelles Passwort ein.")],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "Neues Passwort",
        validators=[
            DataRequired("Bitte geben Sie ein neues Passwort ein."),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=f"Das neue Passwort muss mindestens {MIN_PASSWORD_LENGTH} Zeichen lang sein.",
            ),
        ],
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH},
        description=(f"Mindestens {MIN_PASSWORD_LENGTH} Zeichen. Ein Satz aus mehreren Wörtern ist gut zu merken."),
    )
    new_password_repeat = PasswordField(
        "Neues Passwort wiederholen",
        validators=[
            DataRequired("Bitte wiederholen Sie das neue Passwort."),
            EqualTo("new_password", "Die beiden neuen Passwörter stimmen nicht überein."),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_new_password(self, field: PasswordField) -> None:
        if field.data and field.data == self.current_password.data:
            raise ValidationError("Das neue Passwort muss sich vom aktuellen unterscheiden.")
