"""Payer policies: data that layers, never forks in check code.

A policy is a TOML document. The built-ins ``MEDICARE`` and ``DEFAULT`` live in
``scrubber/policies/``; a user file names a base with ``extends`` and overrides only what
differs. Unknown keys are an error, and so are keys an older release read (``kx.pos``,
``coverage.home_pos``): the message names the key that replaced them.

**Payer to policy** (RULES.md "Payer to policy"). A line's ``payer`` (trimmed, case-insensitive,
runs of spaces as one) is claimed by a policy that lists it in ``payers`` (exact names) or matches
its ``payer_patterns``: ``prefix`` (the name is, or begins with, the word(s): ``MEDICARE`` claims
"MEDICARE PART B" and "Medicare-B", not "MEDICAREBLUE"), ``contains`` (the word(s) appear anywhere
as whole words: ``NGS`` claims "NGS Medicare", not "KINGS HEALTH") and ``except_contains`` (a name
with any of these words is never claimed by this policy's patterns; its exact ``payers`` still are).
Policies are consulted in load order (the built-ins, then the ``--policy`` files in the order
given) and the last one that claims a payer wins; a payer no policy claims gets ``DEFAULT``. So a
user file can take any payer, exact or by pattern, from a built-in. Neither ``payers`` nor
``payer_patterns`` is inherited through ``extends``: MEDICARE's payers stay MEDICARE's.

**Home** is one key, ``home_pos`` (RULES.md "Words": MEDICARE and DEFAULT 04, 12, 13, 14, 33, 54,
55, 56): the coverage lists for home, KX and the JW/JZ home date all read it.

Checks never read a :class:`Policy` object: enrichment (``scrubber.enrich._policy_columns``) turns
the set into plain per-line columns, and :meth:`PolicySet.line_parameters` gives the engine the
coverage frames, so every check stays one vectorised expression whatever the payer mix of the batch.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from scrubber.canonical import diagnosis_value
from scrubber.errors import PolicyError
from scrubber.payer_names import payer_key
from scrubber.schema import DIAGNOSIS_RE, MAX_UNITS
from scrubber.settings_files import decode_text, undecodable

BUILTIN = ("MEDICARE", "DEFAULT")
PAYER_KINDS = ("medicare", "commercial")
ADDON_PRIMARY_LISTS = ("cpt", "ncci")
FALLBACK = "DEFAULT"

# Every key a policy file may hold, with the type of its value. Unknown keys are an error:
# a typo such as `exmpt_pos` must not silently leave the default in force.
_KEYS: dict[str, Any] = {
    "name": str,
    "extends": str,
    "kind": str,
    "description": str,
    "payers": list,
    "payer_patterns": {"prefix": list, "contains": list, "except_contains": list},
    "home_pos": list,
    "home_ivig_pos": list,
    "caps": dict,
    "jw": {"required_from": (dt.date, bool)},
    "jz": {"required_from": (dt.date, bool)},
    "jw_jz": {"exempt_pos": list, "home_from": (dt.date, bool)},
    "kx": {"required_from": (dt.date, bool), "accepted": list},
    "jb": {"required_from": (dt.date, bool)},
    "addons": {"primaries": str},
    "coverage": {"home_iv": list, "home_sc": list, "other": list, "lists": dict},
    "ncci": {"em_pairs": bool},
}
# Keys an older release read, refused with the key that replaced them (never accepted and ignored).
_REPLACED: dict[str, str] = {
    "kx.pos": "'home_pos' (the policy's one set of home places of service, read by coverage, KX and JW/JZ) "
              "and 'kx.required_from' (the first date of service KX applies on)",
    "coverage.home_pos": "'home_pos' (the policy's one set of home places of service, read by coverage, KX and "
                         "JW/JZ)",
}
_POS_RE = re.compile(r"[0-9]{2}")
_MODIFIER_RE = re.compile(r"[A-Z0-9]{2}")


@dataclass(frozen=True)
class PayerPatterns:
    """Which payer names a policy claims besides its exact ``payers`` (see the module docstring)."""

    prefix: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    except_contains: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.prefix or self.contains)

    def matches(self, name: str) -> bool:
        """True when ``name`` (already normalised by :func:`payer_key`) is claimed by the patterns."""
        if not self or _words(self.except_contains).search(name):
            return False
        return bool(_prefix(self.prefix).match(name) or _words(self.contains).search(name))


def _alternatives(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in words) or r"(?!)"  # (?!) never matches


def _prefix(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(rf"^(?:{_alternatives(words)})(?![A-Z0-9])")


def _words(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Z0-9])(?:{_alternatives(words)})(?![A-Z0-9])")




@dataclass(frozen=True)
class Policy:
    """One resolved policy (its base already merged in)."""

    name: str
    description: str
    payers: tuple[str, ...]
    kind: str  # "medicare" or "commercial": which words a finding speaks (Medicare remedies, IOM citations)
    caps: dict[str, int]
    jw_required_from: dt.date | None
    jz_required_from: dt.date | None
    jw_jz_exempt_pos: tuple[str, ...]
    jw_jz_home_from: dt.date | None  # at home, JW/JZ apply from this date of service (None: no home rule)
    kx_required_from: dt.date | None  # home SC immune globulin needs KX/GA/GZ/GY from this date (None: never)
    kx_accepted: tuple[str, ...]
    # home SC immune globulin and its pump carry JB (administered subcutaneously) from this date (None: never)
    jb_required_from: dt.date | None
    home_pos: tuple[str, ...]
    # Where the home IVIG benefit pays the drug and Q2052 (the home set and 32, nursing facility: Noridian
    # JD DME IVIG billing tips; the drug and its Q2052 at the same one). Read by home-ig-supplies and
    # the home IVIG coverage list; KX and the JW/JZ home date read ``home_pos``.
    home_ivig_pos: tuple[str, ...]
    addon_primaries: str  # "cpt" (CPT parentheticals) or "ncci" (CMS NCCI add-on code edits): which primaries anchor
    coverage: dict[str, tuple[str, ...]]  # setting -> list ids
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)  # inline lists, undotted codes
    payer_patterns: PayerPatterns = field(default_factory=PayerPatterns)
    origin: str = "built-in"
    # NCCI pairs with an E/M code (E/M billed with drug administration) apply; a payer that does not
    # apply NCCI to E/M visits sets [ncci] em_pairs = false (ncci-ptp-conflict then skips those pairs).
    ncci_em_pairs: bool = True

    def claims(self, name: str) -> bool:
        """True when this policy names the payer ``name`` (normalised by :func:`payer_key`)."""
        return name in self.payers or self.payer_patterns.matches(name)


def _validate_keys(doc: dict[str, Any], source: str, spec: dict[str, Any] = _KEYS, prefix: str = "") -> None:
    for key, value in doc.items():
        where = f"{prefix}{key}"
        if where in _REPLACED:
            raise PolicyError(f"'{where}' is no longer read: use {_REPLACED[where]}", source)
        if key not in spec:
            known = ", ".join(sorted(spec))
            raise PolicyError(f"unknown key '{where}' (known here: {known})", source)
        expected = spec[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise PolicyError(f"'{where}' must be a table", source)
            _validate_keys(value, source, expected, f"{where}.")
        elif not isinstance(value, expected):
            raise PolicyError(f"'{where}' has the wrong type ({type(value).__name__})", source)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, table by table: a policy that extends another restates only what
    differs (its ``coverage.lists`` add to the base's lists, a list of the same name replacing it)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _inherited_lists_in_use(merged: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """``merged`` keeping, of the lists it inherits, those its coverage settings still name: a base's
    list the file no longer uses is not the file's setting (the file's own unused lists stay, and are
    an error in :func:`_build`)."""
    cov = merged.get("coverage")
    if not isinstance(cov, dict) or not isinstance(cov.get("lists"), dict):
        return merged
    own = {str(k).upper() for k in raw.get("coverage", {}).get("lists", {})}
    named = {str(i).upper() for s in ("home_iv", "home_sc", "other") for i in cov.get(s, []) if isinstance(i, str)}
    lists = {k: v for k, v in cov["lists"].items() if str(k).upper() in own | named}
    return {**merged, "coverage": {**cov, "lists": lists}}


def _date_or_none(value: Any, where: str, source: str) -> dt.date | None:
    # TOML date-times are dates to isinstance; a time of day has no meaning for a date of service.
    if value is True or isinstance(value, dt.datetime) or not isinstance(value, (dt.date, bool)):
        raise PolicyError(f"'{where}' must be a date (YYYY-MM-DD) or false", source)
    return None if value is False else value


def _texts(values: Any, where: str, source: str) -> tuple[str, ...]:
    """A list of text values, trimmed and upper-cased; anything else is a PolicyError, not a crash."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise PolicyError(f"'{where}' must be a list of text values", source)
    return tuple(v.strip().upper() for v in values)


def _codes(values: Any, where: str, source: str) -> tuple[str, ...]:
    if not isinstance(values, list):
        raise PolicyError(f"'{where}' must be a list of text values", source)
    out = []
    for v in values:
        if not isinstance(v, str):
            raise PolicyError(f"'{where}' must list text values", source)
        out.append(v.strip().upper().replace(".", ""))
    return tuple(out)


def _shaped(values: Any, where: str, source: str, shape: re.Pattern[str], what: str) -> tuple[str, ...]:
    """:func:`_codes`, each of which must match ``shape``; else a PolicyError saying it is not ``what``."""
    codes = _codes(values, where, source)
    for code in codes:
        if not shape.fullmatch(code):
            raise PolicyError(f"'{where}' lists '{code}', which is not {what}", source)
    return codes


def _pos(values: Any, where: str, source: str) -> tuple[str, ...]:
    """Places of service: two-digit codes (``12``, ``04``); anything else is a PolicyError."""
    return _shaped(values, where, source, _POS_RE, "a two-digit place of service code")


def _modifiers(values: Any, where: str, source: str) -> tuple[str, ...]:
    return _shaped(values, where, source, _MODIFIER_RE, "a two-character modifier")


def _kx_accepted(values: Any, source: str) -> tuple[str, ...]:
    """``kx.accepted``: the modifiers that answer the KX requirement, KX among them: a list without it
    asks of a line something no fix can give (the finding says "append KX"; probe 17D)."""
    accepted = _modifiers(values, "kx.accepted", source)
    if "KX" not in accepted:
        raise PolicyError("'kx.accepted' must list KX (the modifier that says the coverage criteria are met), "
                          "beside any others the payer accepts", source)
    return accepted


def _payer_names(values: Any, where: str, source: str) -> tuple[str, ...]:
    """Payer names or pattern words, normalised like claims' payers (:func:`payer_key`). An empty one
    is refused: as a name it would match no claim, as a word it would match odd names (never a
    setting accepted and ignored)."""
    names = tuple(payer_key(w) for w in _texts(values, where, source))
    if any(not n for n in names):
        raise PolicyError(f"'{where}' must not list an empty name", source)
    return names


def _patterns(doc: dict[str, Any], source: str) -> PayerPatterns:
    """``payer_patterns``: lists of words, normalised like payer names (see :func:`payer_key`)."""
    return PayerPatterns(**{key: _payer_names(doc.get(key, []), f"payer_patterns.{key}", source)
                            for key in ("prefix", "contains", "except_contains")})


def _diagnoses(values: Any, where: str, source: str) -> tuple[str, ...]:
    """A coverage list: ICD-10-CM codes, normalised as claim diagnoses are (with or without the dot
    after the category; stored undotted) and held to the same format rule."""
    texts = _texts(values, where, source)
    if where.startswith("coverage.lists.") and not texts:
        # (an empty list covers nothing: refused as "unknown list" by the setting naming it, probe 28C B7)
        raise PolicyError(f"'{where}' is empty: a coverage list names the diagnoses it covers (e.g. [\"D80.0\"])",
                          source)
    codes = pl.DataFrame({"v": list(texts)}, schema={"v": pl.String()}).select(diagnosis_value(pl.col("v")))
    for given, code in zip(values, codes.to_series(), strict=True):
        if not re.fullmatch(DIAGNOSIS_RE, code):
            raise PolicyError(f"'{where}' lists '{given}', which is not an ICD-10-CM code (e.g. D80.0 or D800)",
                              source)
    return tuple(codes.to_series())


# A HCPCS Level I (CPT: five digits; Category II/III, PLA and MAAA: four digits and F, T, U or M) or Level II
# (a letter and four digits) code: a cap on "ABCDE" is on no code and would cap nothing (probe 23H B2).
_HCPCS_CODE = re.compile(r"[0-9]{4}[0-9FMTU]|[A-Z][0-9]{4}")


def _no_repeated_caps(raw: dict[str, Any], source: str) -> None:
    """One ``[caps]`` entry per code in a file: ``"96366"`` and ``"96366 "`` (or ``"j1459"`` and
    ``"J1459"``) are one code, and keeping the later of two caps silently would ignore a setting."""
    _no_repeated_keys(raw.get("caps"), "caps", "are the same code {key}: give its cap once", source)


def _no_repeated_lists(raw: dict[str, Any], source: str) -> None:
    """One ``[coverage.lists]`` entry per name in a file: list names are read without case (coverage
    settings name them so), and keeping the later of ``Acme_IG`` and ``ACME_IG`` silently dropped the
    other's codes (probe 26C D5: a covered D80.0 was reported not covered)."""
    cov = raw.get("coverage")
    _no_repeated_keys(cov.get("lists") if isinstance(cov, dict) else None, "coverage.lists",
                      "name the same list {key} (list names are read without case): give it once", source)


def _no_repeated_keys(table: Any, where: str, said: str, source: str) -> None:
    """Refuse two keys of ``table`` (a TOML table at ``where``) that are one key read without case and
    surrounding spaces; ``said`` words it, ``{key}`` the key as read."""
    if not isinstance(table, dict):
        return
    seen: dict[str, str] = {}
    for name in table:
        key = str(name).strip().upper()
        if key in seen:
            raise PolicyError(f"{where}.{seen[key]} and {where}.{name} {said.format(key=key)}", source)
        seen[key] = str(name)


def _caps(doc: dict[str, Any], source: str) -> dict[str, int]:
    """``[caps]``: units per encounter for a code (RULES.md over-cap-96371 and units-over-mue).

    Every entry is enforced: 96371's by over-cap-96371, any other code's by units-over-mue, where it
    replaces the code's MUE. So a key that is not a HCPCS/CPT code (a typo such as ``"9637"`` or
    ``"96371x"``) is refused, never kept and silently matched to nothing.
    """
    caps: dict[str, int] = {}
    for code, cap in doc.get("caps", {}).items():
        key = code.strip().upper()
        if not _HCPCS_CODE.fullmatch(key):
            raise PolicyError(f"caps.{code}: not a HCPCS/CPT code (five digits, four digits and F/M/T/U, or a letter "
                              "and four digits: \"96371\", \"J1459\")", source)
        if not isinstance(cap, int) or isinstance(cap, bool) or cap < 0:
            raise PolicyError(f"caps.{code} must be a whole number >= 0", source)
        if cap > MAX_UNITS:  # a line cannot bill more (schema): a larger cap can never be reached
            raise PolicyError(f"caps.{code} must be at most {MAX_UNITS:,} (the most units a line may bill)", source)
        caps[key] = cap
    return caps


def _read_by_nothing(raw: dict[str, Any], base: dict[str, Any], policy: Policy, source: str) -> None:
    """Refuse a setting the file gives that its policy never reads (a setting accepted and ignored;
    probe 21B): ``kx.accepted`` where KX is never required, ``jw_jz.exempt_pos`` or ``jw_jz.home_from``
    where neither JW nor JZ is. Only what the file changes: an inherited value, or one the file
    restates as its base has it (a copy of the shipped default.toml, review 21D), is not refused."""
    def changed(table: str, key: str) -> bool:
        return key in raw.get(table, {}) and raw[table][key] != base.get(table, {}).get(key)

    if changed("kx", "accepted") and policy.kx_required_from is None:
        raise PolicyError("'kx.accepted' is set but KX is never required under this policy (kx.required_from is "
                          "false): set kx.required_from to the first date of service KX applies on, or remove "
                          "kx.accepted", source)
    given = [k for k in ("exempt_pos", "home_from") if changed("jw_jz", k)]
    if given and policy.jw_required_from is None and policy.jz_required_from is None:
        raise PolicyError(f"'jw_jz.{given[0]}' is set but neither JW nor JZ is required under this policy "
                          "(jw.required_from and jz.required_from are false): set the date JW or JZ applies "
                          f"from, or remove jw_jz.{given[0]}", source)


def _build(doc: dict[str, Any], source: str) -> Policy:
    caps = _caps(doc, source)
    cov = doc.get("coverage", {})
    lists = {k.upper(): _diagnoses(v, f"coverage.lists.{k}", source) for k, v in cov.get("lists", {}).items()}
    name = doc["name"].strip().upper()
    if not name:
        raise PolicyError("'name' must not be empty", source)
    kind = doc.get("kind", "commercial")
    if kind not in PAYER_KINDS:
        raise PolicyError(f"'kind' must be one of {', '.join(PAYER_KINDS)}", source)
    jw_jz, kx = doc.get("jw_jz", {}), doc.get("kx", {})
    addon_primaries = doc.get("addons", {}).get("primaries", "cpt")
    if addon_primaries not in ADDON_PRIMARY_LISTS:
        raise PolicyError(f"'addons.primaries' must be one of {', '.join(ADDON_PRIMARY_LISTS)}", source)
    coverage = {s: _texts(cov.get(s, []), f"coverage.{s}", source) for s in ("home_iv", "home_sc", "other")}
    named = {list_id.upper() for ids in coverage.values() for list_id in ids}
    for list_id in lists:
        if list_id not in named:  # defined, read by nothing: a setting accepted and ignored
            raise PolicyError(f"'coverage.lists.{list_id}' is defined but no setting names it; add it to "
                              "coverage.home_iv, coverage.home_sc or coverage.other", source)
    jw_from = _date_or_none(doc.get("jw", {}).get("required_from", False), "jw.required_from", source)
    jz_from = _date_or_none(doc.get("jz", {}).get("required_from", False), "jz.required_from", source)
    if jz_from is not None and (jw_from is None or jw_from > jz_from):
        # Where JZ is required, discarded drug is billed on a JW line (CMS JW/JZ FAQ): a later or no JW
        # date would be read by nothing while JZ is in force.
        raise PolicyError(f"'jw.required_from' must be on or before 'jz.required_from' ({jz_from.isoformat()}): "
                          "where JZ is required, discarded amounts are billed with JW (CMS JW/JZ FAQ)", source)
    return Policy(
        name=name,
        kind=kind,
        description=doc.get("description", ""),
        payers=_payer_names(doc.get("payers", []), "payers", source),
        caps=caps,
        jw_required_from=jw_from,
        jz_required_from=jz_from,
        jw_jz_exempt_pos=_pos(jw_jz.get("exempt_pos", []), "jw_jz.exempt_pos", source),
        jw_jz_home_from=_date_or_none(jw_jz.get("home_from", False), "jw_jz.home_from", source),
        kx_required_from=_date_or_none(kx.get("required_from", False), "kx.required_from", source),
        kx_accepted=_kx_accepted(kx.get("accepted", ["KX", "GA", "GZ", "GY"]), source),
        jb_required_from=_date_or_none(doc.get("jb", {}).get("required_from", False), "jb.required_from", source),
        home_pos=_pos(doc.get("home_pos", []), "home_pos", source),
        home_ivig_pos=_pos(doc.get("home_ivig_pos", []), "home_ivig_pos", source),
        addon_primaries=addon_primaries,
        coverage=coverage,
        lists=lists,
        payer_patterns=_patterns(doc.get("payer_patterns", {}), source),
        origin=source,
        ncci_em_pairs=doc.get("ncci", {}).get("em_pairs", True),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    """The TOML document of a policy file; every way it can fail is a one-line PolicyError."""
    try:
        text = decode_text(path.read_bytes())
    except FileNotFoundError:
        raise PolicyError("no such policy file", str(path)) from None
    except UnicodeDecodeError as exc:
        raise PolicyError(f"cannot read policy file ({undecodable(exc)})", str(path)) from None
    except OSError as exc:
        raise PolicyError(f"cannot read policy file ({exc.strerror or exc})", str(path)) from None
    if "\x00" in text:
        raise PolicyError("cannot read policy file (binary content, expected TOML text)", str(path))
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"invalid TOML ({exc})", str(path)) from None
    except RecursionError:
        raise PolicyError("invalid TOML (nested too deeply to be a policy)", str(path)) from None


def _no_extends_notice(raw: dict[str, Any], builtins: dict[str, Policy], source: str) -> dict[str, str]:
    """The input warning of a policy file that names no base: it is read as ``extends = "DEFAULT"``
    (commercial rules), which turned a file naming Medicare's payers into commercial rules for their
    claims without a word (probe 23H B1: JZ and KX findings gone). The README's form gives
    ``extends``; a file without it is still read as before, and said."""
    medicare = builtins["MEDICARE"]
    patterns = raw.get("payer_patterns")
    patterns = patterns if isinstance(patterns, dict) else {}
    named = [raw.get("payers"), patterns.get("prefix"), patterns.get("contains")]
    theirs = [p for names in named if isinstance(names, list) for p in names
              if isinstance(p, str) and medicare.claims(payer_key(p))]
    head = (f"policy {str(raw['name']).strip()} does not say which policy it extends and is read as "
            'extends = "DEFAULT" (commercial rules: JW for documented waste only, no JZ, no KX, CPT\'s add-on '
            "primaries)")
    if theirs:
        return {"source": source, "problem": f"{head}, yet its payers {', '.join(theirs)} are Medicare's by name: "
                'add extends = "MEDICARE" if they follow Medicare\'s rules, or extends = "DEFAULT" to keep these'}
    return {"source": source, "problem": f'{head}: add extends = "DEFAULT" (or "MEDICARE") to say which'}


def _builtin_doc(name: str) -> dict[str, Any]:
    text = resources.files("scrubber.policies").joinpath(f"{name.lower()}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@dataclass
class PolicySet:
    """The policies in force for a run, and which payer maps to which.

    ``payer_map`` holds the exact names (``payers``) only; :meth:`policy_for` is the whole rule
    (exact names and ``payer_patterns``, last claimant wins). ``claimants`` lists every policy as
    loaded, in load order, so that a user file redefining ``MEDICARE`` keeps the built-in's payers
    mapped to the name ``MEDICARE`` (now the user's definition).
    """

    policies: dict[str, Policy]
    payer_map: dict[str, str]
    claimants: list[Policy] = field(default_factory=list)
    # Input warnings of the policy files: read as written, but a default a reader may not expect.
    notices: list[dict[str, str]] = field(default_factory=list)

    def policy_for(self, payer: str | None) -> str:
        """The name of the policy for a payer name (RULES.md "Payer to policy"; module docstring)."""
        name = payer_key(payer)
        for policy in reversed(self.claimants):
            if policy.claims(name):
                return policy.name
        return FALLBACK

    @classmethod
    def load(cls, files: list[str] | tuple[str, ...] = ()) -> PolicySet:
        docs = {name: _builtin_doc(name) for name in BUILTIN}
        policies = {name: _build(doc, "built-in") for name, doc in docs.items()}
        claimants = list(policies.values())
        payer_map = {p: name for name, pol in policies.items() for p in pol.payers}
        defined_in: dict[str, str] = {}  # policy name -> the user file that defines it
        notices: list[dict[str, str]] = []  # input warnings of the files (read, not refused)
        for file in files:
            raw = _read_toml(Path(file))
            _validate_keys(raw, file)
            if "name" not in raw:
                raise PolicyError("a policy file needs a 'name'", file)
            base = raw.get("extends", FALLBACK).strip().upper()
            if "extends" not in raw and str(raw["name"]).strip().upper() != FALLBACK:
                notices.append(_no_extends_notice(raw, policies, file))
            if base not in docs:
                raise PolicyError(f"extends unknown policy '{base}' (known: {', '.join(sorted(docs))})", file)
            _no_repeated_caps(raw, file)
            _no_repeated_lists(raw, file)
            merged = _inherited_lists_in_use(_merge(docs[base], {k: v for k, v in raw.items() if k != "extends"}),
                                             raw)
            # Payers are never inherited, exact or by pattern: MEDICARE's payers stay MEDICARE's.
            merged["payers"] = raw.get("payers", [])
            merged["payer_patterns"] = raw.get("payer_patterns", {})
            policy = _build(merged, file)
            _read_by_nothing(raw, docs[base], policy, file)
            if policy.name in BUILTIN and base != policy.name:
                # A file named like a built-in redefines it for every payer it claims (DEFAULT: all the
                # payers no other policy names); built on the other built-in, it would swap the rules of
                # all of them, silently (a file meant for one payer, misnamed DEFAULT, gave every
                # commercial claim Medicare's JZ and KX rules).
                raise PolicyError(f"a policy named {policy.name} redefines the built-in {policy.name} for all its "
                                  f"payers, so it must extend {policy.name} (it extends {base}); to give some payers "
                                  f"{base}'s rules, name a new policy with extends = \"{base}\" and those payers",
                                  file)
            patterns = policy.payer_patterns
            if patterns.except_contains and policy.name in BUILTIN:
                raise PolicyError(f"'payer_patterns.except_contains' cannot take payers from {policy.name}: a "
                                  f"redefined {policy.name} keeps the built-in's payers; to send such payers to "
                                  "another policy, name them in that policy's payers or payer_patterns (the last "
                                  "claimant wins)", file)
            if patterns.except_contains and not (patterns.prefix or patterns.contains):
                # It narrows this file's own patterns only: with none, it would be read by nothing (and
                # a redefined MEDICARE's built-in payers stay MEDICARE's whatever it says).
                raise PolicyError("'payer_patterns.except_contains' narrows this policy's own prefix/contains "
                                  "patterns, and it has none; to send such payers to another policy, name them in "
                                  "that policy's payers or payer_patterns (the last claimant wins)", file)
            if policy.name not in BUILTIN and not policy.payers and not policy.payer_patterns:
                # A redefined MEDICARE or DEFAULT keeps the built-in's payers; a new policy names its own.
                raise PolicyError(f"policy '{policy.name}' names no payers ('payers' or [payer_patterns]): it would "
                                  "apply to no claim", file)
            if policy.name in defined_in:
                # The second file replaced the first's rules for the first's payers too, silently.
                raise PolicyError(f"policy '{policy.name}' is also defined in {defined_in[policy.name]}; give each "
                                  "policy file its own name (or name all its payers in one file)", file)
            defined_in[policy.name] = file
            docs[policy.name] = merged
            policies[policy.name] = policy
            claimants.append(policy)
            payer_map.update({p: policy.name for p in policy.payers})
        return cls(policies=policies, payer_map=payer_map, claimants=claimants, notices=notices)

    def line_parameters(self) -> dict[str, pl.DataFrame]:
        """Frames the engine joins onto lines: payer -> policy, policy parameters, caps, coverage."""
        payers = pl.DataFrame(
            {"payer_key": list(self.payer_map), "policy": list(self.payer_map.values())},
            schema={"payer_key": pl.String(), "policy": pl.String()},
        )
        pols = list(self.policies.values())
        params = pl.DataFrame(
            {
                "policy": [p.name for p in pols],
                "pol_jw_from": [p.jw_required_from for p in pols],
                "pol_jz_from": [p.jz_required_from for p in pols],
                "pol_jwjz_exempt_pos": [list(p.jw_jz_exempt_pos) for p in pols],
                "pol_jwjz_home_from": [p.jw_jz_home_from for p in pols],
                "pol_kx_from": [p.kx_required_from for p in pols],
                "pol_kx_accepted": [list(p.kx_accepted) for p in pols],
                "pol_home_pos": [list(p.home_pos) for p in pols],
                "pol_home_ivig_pos": [list(p.home_ivig_pos) for p in pols],
            },
            schema={
                "policy": pl.String(),
                "pol_jw_from": pl.Date(),
                "pol_jz_from": pl.Date(),
                "pol_jwjz_exempt_pos": pl.List(pl.String()),
                "pol_jwjz_home_from": pl.Date(),
                "pol_kx_from": pl.Date(),
                "pol_kx_accepted": pl.List(pl.String()),
                "pol_home_pos": pl.List(pl.String()),
                "pol_home_ivig_pos": pl.List(pl.String()),
            },
        )
        caps = pl.DataFrame(
            [(p.name, code, cap) for p in pols for code, cap in p.caps.items()],
            schema={"policy": pl.String(), "procedure_code": pl.String(), "cap": pl.Int64()},
            orient="row",
        )
        coverage = pl.DataFrame(
            [
                (p.name, setting, f"{p.name}:{list_id}" if list_id in p.lists else list_id)
                for p in pols
                for setting, ids in p.coverage.items()
                for list_id in ids
            ],
            schema={"policy": pl.String(), "setting": pl.String(), "list_id": pl.String()},
            orient="row",
        )
        inline = pl.DataFrame(
            [(f"{p.name}:{lid}", code) for p in pols for lid, codes in p.lists.items() for code in codes],
            schema={"list_id": pl.String(), "code": pl.String()},
            orient="row",
        )
        return {"payers": payers, "params": params, "caps": caps, "coverage": coverage, "inline_lists": inline}

    def describe(self) -> list[dict[str, str]]:
        """One row per policy for reports: name, where it came from, which payers it covers."""
        return [
            {
                "name": p.name,
                "origin": p.origin,
                "payers": "all payers no other policy names" if p.name == FALLBACK else _payers_text(p),
            }
            for p in self.policies.values()
        ]


def _payers_text(policy: Policy) -> str:
    """The payers a policy claims, as a person reads it: exact names, then the patterns."""
    parts = list(policy.payers)
    pat = policy.payer_patterns
    if pat.prefix:
        parts.append("names beginning with " + " or ".join(pat.prefix))
    if pat.contains:
        parts.append("names containing " + ", ".join(pat.contains))
    text = ", ".join(parts)
    if pat and pat.except_contains:
        text += " (except names containing " + " or ".join(pat.except_contains) + ")"
    return text
