"""Notes and history written by the system: stored as a code and its parameters, shown in the
reader's language.

A service stores `note("code", **params)`, a JSON-ready dict; a page shows `note_render(entry)`
in the active language. What a person typed, or Amazon's own words, is stored as
`text_note(text)` and shown as it is. Every code has one gettext_lazy template: the Commerce
ones here, the Amazon channel's in amazon_channel/notes.py, both in the one registry MESSAGES.

A parameter is a plain value (shown as it is), a note (rendered in the same language) or a list
of notes (rendered and joined with "; ").
"""

import functools
import re
from decimal import Decimal

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# code -> gettext_lazy template; one spelling per message.
MESSAGES: dict[str, Promise] = {}
# Parts of sentences ("Item %(id)s", "the SKU"): a whole line is never one of them.
PART_PREFIX = "part."


def messages_register(templates: dict[str, Promise]) -> None:
    """Add an app's codes to the registry; a code is registered once."""
    for code, template in templates.items():
        if code in MESSAGES and MESSAGES[code] is not template:
            raise ValueError(f"message code {code!r} is registered twice")
        MESSAGES[code] = template


def _stored(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Promise):
        # Stored as text it would stay in the writer's language: a label needs its own code.
        raise TypeError(f"a translated label as a parameter: give it a code ({value!r})")
    if isinstance(value, list | tuple):
        return [_stored(part) for part in value]
    return value


def note(code: str, /, **params) -> dict:
    """The stored form of message `code` with its parameters; raises KeyError for an unknown
    code (a typo must fail where it is written, not on a page)."""
    if code not in MESSAGES:
        raise KeyError(f"unknown message code {code!r}")
    if not params:
        return {"code": code}
    return {"code": code, "params": {name: _stored(value) for name, value in params.items()}}


def text_note(text: str) -> dict:
    """Text stored as it is: what a person typed, Amazon's own words, a line nobody coded."""
    return {"text": str(text)}


def note_english(code: str, /, **params) -> str:
    """Message `code` as English text, where only text fits (an exception's message, which a
    sync run, a store's sync state or an outbox message keeps): whichever process or request
    wrote it, a page shows it in its reader's language with sentence_render."""
    with translation.override("en"):
        return note_render(note(code, **params))


def _param_render(value):
    if isinstance(value, dict) and ("code" in value or "text" in value):
        return note_render(value)
    if isinstance(value, list):
        # Labels ("name, street") read as a list, sentences ("SKU A ...; SKU B ...") apart.
        is_labels = all(
            isinstance(part, dict) and str(part.get("code", "")).startswith(PART_PREFIX)
            for part in value
        )
        return (", " if is_labels else "; ").join(str(_param_render(part)) for part in value)
    return value


def note_render(entry) -> str:
    """The note in the active language; an unknown code shows as its code (never an error on a
    page), plain text as it is."""
    if not entry:
        return ""
    if isinstance(entry, str):
        return entry
    if "text" in entry:
        return str(entry["text"])
    template = MESSAGES.get(entry.get("code"))
    if template is None:
        return str(entry.get("code", ""))
    params = entry.get("params")
    if not params:
        return str(template)
    values = {name: _param_render(value) for name, value in params.items()}
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):  # a translation or a stored row out of step
        pass
    with translation.override("en"):
        try:
            return str(template) % values
        except (KeyError, TypeError, ValueError):
            return f"{entry['code']} {values}"


def sentence_render(text) -> str:
    """A line stored as text, in the reader's language: one of our sentences (note_english) found
    by its English, with the words it quotes as they are; any other text (Amazon's own words)
    as it is."""
    if not text:
        return ""
    return note_render(note_from_english(str(text)))


def notes_render(entries) -> list[str]:
    """Each note of a list in the active language (an old text column's value as one line)."""
    if not entries:
        return []
    if isinstance(entries, str):
        return [entries]
    return [note_render(entry) for entry in entries]


def notes_text(entries) -> str:
    """Each note of a list in the active language, one a line."""
    return "\n".join(notes_render(entries))


_PLACEHOLDER = re.compile(r"%\((?P<name>\w+)\)(?P<kind>[sd])")


@functools.cache
def _english_patterns() -> list[tuple[str, re.Pattern, dict[str, str]]]:
    """(code, pattern of its English sentence, {placeholder: s or d}), the most specific
    sentence first, so that "Commerce order not created: Amazon withheld..." finds its own
    code before the general "Commerce order not created: %(error)s"."""
    patterns = []
    with translation.override("en"):
        for code, template in MESSAGES.items():
            english = str(template)
            pattern, position, kinds = "", 0, {}
            for match in _PLACEHOLDER.finditer(english):
                pattern += re.escape(english[position : match.start()])
                name = match["name"]
                pattern += f"(?P={name})" if name in kinds else f"(?P<{name}>.+?)"
                kinds[name] = match["kind"]
                position = match.end()
            pattern += re.escape(english[position:])
            literal = len(_PLACEHOLDER.sub("", english))
            patterns.append((literal, code, re.compile(pattern, re.DOTALL), kinds))
    patterns.sort(key=lambda entry: -entry[0])
    return [(code, pattern, kinds) for _, code, pattern, kinds in patterns]


def _english_param(value: str, kind: str):
    if kind == "d" and value.lstrip("-").isdigit():
        return int(value)
    # A part that is a whole label ("shipment", "Buyer canceled") gets its code back.
    for is_part in (True, False):
        found = note_from_english(value, is_part=is_part)
        if "code" in found:
            return found
    return value


def note_from_english(text: str, *, is_part: bool = False) -> dict:
    """A note for a line written in English before notes had codes: the code of the sentence it
    matches, with its parameters (codes again where they are labels), or the text itself. For
    data migrations; `is_part` matches labels without parameters too ("shipment")."""
    text = text.strip()
    for code, pattern, kinds in _english_patterns():
        if code.startswith(PART_PREFIX) and (kinds or not is_part):
            continue
        if is_part and kinds:
            continue
        match = pattern.fullmatch(text)
        if match is None:
            continue
        params = {
            name: _english_param(value, kinds[name]) for name, value in match.groupdict().items()
        }
        return note(code, **params)
    return text_note(text)


def notes_from_english(text: str) -> list[dict]:
    """The notes of an old text column: a line each, as note_from_english reads it."""
    notes = []
    for line in text.splitlines():
        if not line.strip():
            continue
        # A credit memo's two sentences shared one line.
        for sentence in _SHARED_LINE.split(line.strip()):
            notes.append(note_from_english(sentence))
    return notes


_SHARED_LINE = re.compile(r"(?<=offline\.) (?=The refunded items were returned to stock\.$)")


messages_register(
    {
        "commerce.order_placed": _("Order placed through %(channel)s, order %(external_id)s."),
        "commerce.canceled_by_channel": _(
            "Canceled by the sales channel. Reason for cancellation: %(reason)s"
        ),
        "commerce.hold": _("Order put on hold."),
        "commerce.unhold": _("Order released from hold."),
        "commerce.confirmation_email_sent": _(
            "The order confirmation email was sent to %(email)s."
        ),
        "commerce.order_canceled": _("Order canceled."),
        "commerce.invoice_captured_offline": _(
            "Invoice #%(number)s created. Captured amount of %(amount)s %(currency)s offline."
        ),
        "commerce.invoice_not_captured": _(
            "Invoice #%(number)s created. The amount of %(amount)s %(currency)s is not captured."
        ),
        "commerce.shipment_created_tracked": _(
            "Shipment #%(number)s created, tracking number %(tracking)s (%(carrier)s)."
        ),
        "commerce.shipment_created": _("Shipment #%(number)s created."),
        "commerce.shipment_corrected": _(
            "Shipment #%(number)s corrected: tracking number %(tracking)s (%(carrier)s)."
        ),
        "commerce.credit_memo_created": _(
            "Credit Memo #%(number)s created. We refunded %(amount)s %(currency)s offline."
        ),
        "commerce.refunded_items_returned": _("The refunded items were returned to stock."),
        "commerce.sku_not_in_catalog": _("SKU %(sku)s is not in the catalog"),
        "commerce.sku_out_of_stock": _(
            "SKU %(sku)s is out of stock (%(ordered)d ordered, %(available)d available)"
        ),
    }
)
