"""Whether a value written where a secret goes only stands in for one (not VF401).

One predicate for the Python and the config checks, so an example value reads the
same in `settings.py`, `.env` and `docker-compose.yml`. A placeholder reported as a
credential would only teach users to ignore VF401, and a real password missed is a
leak; the lists below are the whole decision, so extending them is a data change.

A value is a placeholder when, after trimming quotes and spaces:
- it is empty, or only refers to a secret kept elsewhere: `${DB_PASSWORD}`, `$PW`,
  a shell positional or special parameter (`$5`, `$@`, `$*`, `$#`),
  `{{ pw }}`, `{password}`, `%(password)s`, `%s`, `?`, `...`, `<password>` (REFERENCE);
- it is one character repeated from `x*.#-` (`xxxx`, `******`);
- its words (split at `_ - .` and spaces, case-folded, joined) hold a replace-me
  marker anywhere (`changeme`, `CHANGE_ME`, `pg_change_me_now`: REPLACE_ME), or are
  one of PLACEHOLDER_VALUES (`placeholder`, `redacted`, `todo`, ...), or a localised
  word for "password" / "your password" (LOCALISED: `contraseña`, `senha`, `пароль`);
- it starts with the word `your` (`your_password`, `YourDbPassword`), starts with
  `set by` (`set-by-helm`), or ends in the word `here` (`password_here`);
- it equals its key, or the key's last dotted part, ignoring case and separators
  (`password: password`, `DB_PASSWORD=db_password`; a DSN's password is keyed
  `password`, so `postgresql://app:password@db/app` holds a placeholder).
A real-looking word is not a placeholder: `postgres`, `secret`, `admin`, or
`password` for `DB_PASSWORD` are passwords someone can log in with.
"""

from __future__ import annotations

import re
import unicodedata

# `$5`, `$@`, `$*`, `$#`, `$?`, `$$`: the shell's positional and special parameters are
# references as much as `$NAME` is (`export POSTGRES_PASSWORD=$5`).
REFERENCE = re.compile(
    r"^(\$\{[^}]*\}|\$[A-Za-z_]\w*|\$[0-9]+|\$[@*#?!$-]|\{\{.*\}\}|\{[^}]*\}|%\([^)]*\)s|<[^>]*>|\.\.\.|…|%s|\?)$",
    re.DOTALL,
)
REPEATED = frozenset("x*.#-")
# Joined words that say "replace me" wherever they stand in the value.
REPLACE_ME = (
    "changeme",
    "changethis",
    "changeit",
    "replaceme",
    "replacethis",
    "setme",
    "fillme",
    "fillin",
    "updateme",
    "insertpassword",
    "enterpassword",
)
# A whole value (joined words) that is one of these.
PLACEHOLDER_VALUES = frozenset(
    {"placeholder", "redacted", "todo", "tbd", "fixme", "notset", "none", "null", "dummy"}
)
# "password" / "your password" in other languages (accents folded), as whole values.
LOCALISED = frozenset(
    {
        "contrasena",
        "tucontrasena",
        "sucontrasena",
        "senha",
        "suasenha",
        "tuasenha",
        "passwort",
        "deinpasswort",
        "ihrpasswort",
        "kennwort",
        "motdepasse",
        "votremotdepasse",
        "tonmotdepasse",
        "parola",
        "latuapassword",
        "wachtwoord",
        "jouwwachtwoord",
        "haslo",
        "twojehaslo",
        "heslo",
        "sifre",
        "parol",
        "пароль",
        "вашпароль",
        "твойпароль",
        "密码",
        "你的密码",
        "パスワード",
        "비밀번호",
    }
)
_YOUR = re.compile(r"your(pass|pwd|db|secret|database|postgres|key|token|user)")
_SEPARATORS = re.compile(r"[\s_.\-]+")


def _fold(text: str) -> str:
    """Case-folded, accents removed (contraseña -> contrasena), other scripts kept."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return [word for word in _SEPARATORS.split(_fold(text)) if word]


_LOCALISED_FOLDED = frozenset("".join(_words(word)) for word in LOCALISED)


def is_placeholder(key: str, value: str) -> bool:
    """Whether `value`, written for `key` ("" when unnamed), stands in for a secret."""
    text = value.strip().strip("'\"").strip()
    if not text or REFERENCE.match(text):
        return True
    if len(set(text.casefold())) == 1 and text[0].casefold() in REPEATED:
        return True
    words = _words(text)
    if not words:
        return False
    joined = "".join(words)
    if any(marker in joined for marker in REPLACE_ME):
        return True
    if joined in PLACEHOLDER_VALUES or joined in _LOCALISED_FOLDED:
        return True
    if words[0] == "your" or _YOUR.match(joined) or words[-1] == "here":
        return True
    if words[:2] == ["set", "by"]:
        return True
    key_words = _words(key.strip())
    last_part = _words(key.strip().rsplit(".", 1)[-1])
    return bool(key_words) and joined in ("".join(key_words), "".join(last_part))
