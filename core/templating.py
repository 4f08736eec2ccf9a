"""Page pieces drawn many times a page (amounts, dates, badges, form fields): Python helpers, not Jinja macros.

A macro call costs Jinja a frame, a context and an escape of every part; the project list draws four per row,
fifty rows a page, and the project page two dozen form fields. These return the same HTML as finished Markup, a
few times cheaper."""
from __future__ import annotations

import datetime as dt

from flask import Flask, current_app
from markupsafe import Markup, escape
from wtforms import widgets

DASH = "—"


def money(value) -> str:
    """An amount in 万元 with thousands separators and two places, or a dash."""
    return DASH if value is None else f"{value:,.2f}"


def date(value: dt.date | None) -> str:
    """A date as 2025-03-18, or a dash."""
    return value.isoformat() if value else DASH


def badge(css: str, label: str, title: str | None = None) -> Markup:
    """A Bootstrap badge with ``css`` classes (the caller's own, never user text) and an escaped label."""
    hint = f' title="{escape(title)}"' if title is not None else ""  # Markup.format is ten times slower
    return Markup(f'<span class="badge {css}"{hint}>{escape(label)}</span>')


def form_field(field, *, button_style: str = "", **kwargs) -> Markup:
    """A form field in Bootstrap 5's markup, as Bootstrap-Flask's render_field writes it in its basic layout (the
    label, the control, then each error or else the field's description): a Python function, not that macro, which
    cost the project form and the project page most of their time. ``kwargs`` go to the control."""
    if field.type in ("CSRFTokenField", "HiddenField"):
        return field()
    config = current_app.config
    if field.flags.required and "required" not in kwargs:
        kwargs["required"] = True
    extra = kwargs.pop("class", "") or kwargs.pop("class_", "")
    extra = f" {extra}" if extra else ""
    if field.type == "SubmitField":
        style = button_style or config["BOOTSTRAP_BTN_STYLE"]
        return field(class_=f"btn btn-{style} btn-{config['BOOTSTRAP_BTN_SIZE']}{extra}", **kwargs)
    group = config["BOOTSTRAP_FORM_GROUP_CLASSES"]
    invalid = " is-invalid" if field.errors else ""
    if field.errors:
        notes = "".join(f'<div class="invalid-feedback d-block">{escape(error)}</div>' for error in field.errors)
    elif field.description:
        notes = f'<small class="form-text text-body-secondary">{escape(field.description)}</small>'
    else:
        notes = ""
    # The label names the control's own id: a form drawn once per row gives each control an id of its own.
    target = escape(kwargs.get("id", field.id))
    if getattr(field.widget, "input_type", None) == "checkbox":
        control = field(class_=f"form-check-input{invalid}{extra}", **kwargs)
        label = f'<label class="form-check-label" for="{target}">{escape(field.label.text)}</label>'
        return Markup(f'<div class="{group} form-check">{control}{label}{notes}</div>')
    kind = "form-select" if isinstance(field.widget, widgets.Select) else "form-control"
    control = field(class_=f"{kind}{invalid}{extra}", **kwargs)
    required = " required" if field.flags.required else ""
    label = f'<label class="form-label" for="{target}">{escape(field.label.text)}</label>'
    return Markup(f'<div class="{group}{required}">{label}{control}{notes}</div>')


def init_app(app: Flask) -> None:
    app.add_template_global(money)
    app.add_template_global(date)
    app.add_template_global(form_field)
