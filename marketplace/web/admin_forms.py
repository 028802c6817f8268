"""Forms of the administration area (Verwaltung): accounts, password reset, providers, teams.

The forms check shape and length; the rules (unique e-mail, binding per role, last admin)
live in `marketplace.admin`, whose field messages the views copy onto these fields.
"""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from ..accounts import MIN_PASSWORD_LENGTH
from ..admin import ProviderFields, UserFields
from ..models import Role
from .forms import EMAIL_PATTERN, GermanForm
from .nav import ROLE_LABELS

ROLE_HINTS = {
    Role.coordinator.value: "Veröffentlicht die Gruppen eines Trägers, nimmt Belegungen an, erfasst Teilnahme.",
    Role.caseworker.value: "Legt junge Menschen des eigenen Teams an und fragt Belegungen an.",
    Role.planner.value: "Jugendamt: zertifiziert Angebote, liest Berichte, schließt Verrechnungsmonate ab.",
    Role.admin.value: "Verwaltet Benutzer, Träger, Teams und Sicherungen; sieht keine Falldaten.",
}


def optional_int(value: Any) -> int | None:
    """Coerce a select's value: "" (nothing chosen) is None, anything else must be a whole number."""
    if value in (None, "", "None"):
        return None
    return int(value)


def _choices(rows: list[Any], empty: str) -> list[SelectChoice]:
    """Select options: an empty first choice, then one per row (id, name)."""
    return [SelectChoice("", empty)] + [SelectChoice(row.id, row.name) for row in rows]


def _password_field(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired("Bitte geben Sie ein Passwort ein."),
            Length(min=MIN_PASSWORD_LENGTH, max=1024,
                   message=f"Das Passwort muss mindestens {MIN_PASSWORD_LENGTH} Zeichen lang sein."),
        ],
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH},
        description=(f"Mindestens {MIN_PASSWORD_LENGTH} Zeichen. Geben Sie es der Person auf sicherem Weg weiter; "
                     "sie muss es bei der ersten Anmeldung ändern."),
    )


def _repeat_field() -> PasswordField:
    return PasswordField(
        "Passwort wiederholen",
        validators=[DataRequired("Bitte wiederholen Sie das Passwort."),
                    EqualTo("password", "Die beiden Passwörter stimmen nicht überein.")],
        render_kw={"autocomplete": "new-password"},
    )


class UserForm(GermanForm):
    """Benutzerkonto bearbeiten: Name, E-Mail, Rolle und Zuordnung."""

    display_name = StringField(
        "Name", validators=[DataRequired("Bitte geben Sie einen Namen ein."),
                            Length(max=200, message="Höchstens 200 Zeichen.")],
    )
    email = EmailField(
        "E-Mail-Adresse (Anmeldename)",
        validators=[DataRequired("Bitte geben Sie eine E-Mail-Adresse ein."),
                    Regexp(EMAIL_PATTERN, message="Bitte geben Sie eine gültige E-Mail-Adresse ein."),
                    Length(max=254, message="Die E-Mail-Adresse ist zu lang.")],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField("Rolle", choices=[SelectChoice(r.value, ROLE_LABELS[r.value]) for r in Role],
                       validators=[DataRequired("Bitte wählen Sie eine Rolle.")])
    provider_id = SelectField("Träger", coerce=optional_int, validate_choice=True,
                              description="Nur für die Koordination: der Träger, für den die Person arbeitet.")
    team_id = SelectField("ASD-Team", coerce=optional_int, validate_choice=True,
                          description="Nur für ASD-Fachkräfte: das Team, dessen Fälle die Person sieht.")

    def set_choices(self, providers: list[Any], teams: list[Any]) -> None:
        self.provider_id.choices = _choices(providers, "– bitte wählen –")
        self.team_id.choices = _choices(teams, "– bitte wählen –")

    def fields(self) -> UserFields:
        return UserFields(email=self.email.data or "", display_name=self.display_name.data or "",
                          role=self.role.data or "", provider_id=self.provider_id.data, team_id=self.team_id.data)


class NewUserForm(UserForm):
    """Neues Benutzerkonto mit Startpasswort."""

    password = _password_field("Startpasswort")
    password_repeat = _repeat_field()


class PasswordResetForm(GermanForm):
    """Passwort zurücksetzen (durch die Administration)."""

    password = _password_field("Neues Passwort")
    password_repeat = _repeat_field()


class ProviderForm(GermanForm):
    """Träger anlegen oder bearbeiten."""

    name = StringField("Name", validators=[DataRequired("Bitte geben Sie einen Namen ein."),
                                           Length(max=200, message="Höchstens 200 Zeichen.")])
    short_name = StringField("Kurzname", validators=[DataRequired("Bitte geben Sie einen Kurznamen ein."),
                                                     Length(max=20, message="Höchstens 20 Zeichen.")],
                             description="Für Tabellen und Abrechnungen, z. B. „AWO DA“.")
    contact_name = StringField("Ansprechperson", validators=[Length(max=200, message="Höchstens 200 Zeichen.")])
    contact_email = EmailField(
        "E-Mail",
        validators=[Optional(), Regexp(EMAIL_PATTERN, message="Bitte geben Sie eine gültige E-Mail-Adresse ein."),
                    Length(max=200, message="Höchstens 200 Zeichen.")],
    )
    contact_phone = StringField("Telefon", validators=[Length(max=200, message="Höchstens 200 Zeichen.")])
    address = TextAreaField("Anschrift", validators=[Length(max=200, message="Höchstens 200 Zeichen.")],
                            render_kw={"rows": 3})
    allows_co_use = BooleanField(
        "Vereinbarung erlaubt trägerübergreifende Nutzung",
        description="Andere Träger dürfen zertifizierte Gruppen mitnutzen, und eigene junge Menschen dürfen "
                    "Gruppen anderer Träger nutzen (Voraussetzung für Variante B).",
    )
    active = BooleanField("Aktiv", default=True,
                          description="Deaktivierte Träger erscheinen nicht mehr in Auswahllisten.")

    def fields(self) -> ProviderFields:
        return ProviderFields(
            name=self.name.data or "", short_name=self.short_name.data or "",
            contact_name=self.contact_name.data or "", contact_email=self.contact_email.data or "",
            contact_phone=self.contact_phone.data or "", address=self.address.data or "",
            allows_co_use=bool(self.allows_co_use.data), active=bool(self.active.data),
        )


class TeamForm(GermanForm):
    """Neues ASD-Team."""

    name = StringField("Name des Teams", validators=[DataRequired("Bitte geben Sie einen Namen ein."),
                                                     Length(max=200, message="Höchstens 200 Zeichen.")])
    sozialraum_id = SelectField("Sozialraum", coerce=optional_int,
                                description="Für welchen Sozialraum das Team zuständig ist (optional).")

    def set_choices(self, areas: list[Any]) -> None:
        self.sozialraum_id.choices = _choices(areas, "– keiner –")
