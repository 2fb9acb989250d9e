"""Payer policies: data that layers, never forks in check code.

A policy is a TOML document. The built-ins ``MEDICARE`` and ``DEFAULT`` live in
``scrubber/policies/``; a user file names a base with ``extends`` and overrides only what
differs. Lines are matched to a policy by their ``payer`` (trimmed, case-insensitive) against
each policy's ``payers``; a payer no policy names gets ``DEFAULT``. User policies are applied in
the order given and win over the built-ins for the payers they name.

Checks never read a :class:`Policy` object: :meth:`PolicySet.line_parameters` turns the set into
small frames that the engine joins onto the lines, so every check stays one vectorised
expression whatever the payer mix of the batch.
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
from scrubber.schema import DIAGNOSIS_RE

BUILTIN = ("MEDICARE", "DEFAULT")
PAYER_KINDS = ("medicare", "commercial")
FALLBACK = "DEFAULT"

# Every key a policy file may hold, with the type of its value. Unknown keys are an error:
# a typo such as `exmpt_pos` must not silently leave the default in force.
_KEYS: dict[str, Any] = {
    "name": str,
    "extends": str,
    "kind": str,
    "description": str,
    "payers": list,
    "caps": dict,
    "jw": {"required_from": (dt.date, bool)},
    "jz": {"required_from": (dt.date, bool)},
    "jw_jz": {"exempt_pos": list},
    "kx": {"pos": list, "accepted": list},
    "coverage": {"home_pos": list, "home_iv": list, "home_sc": list, "other": list, "lists": dict},
    "ncci": {"em_pairs": bool},
}


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
    kx_pos: tuple[str, ...]
    kx_accepted: tuple[str, ...]
    home_pos: tuple[str, ...]
    coverage: dict[str, tuple[str, ...]]  # setting -> list ids
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)  # inline lists, undotted codes
    origin: str = "built-in"
    # NCCI pairs with an E/M code (E/M billed with drug administration) apply; a payer that does not
    # apply NCCI to E/M visits sets [ncci] em_pairs = false (ncci-ptp-conflict then skips those pairs).
    ncci_em_pairs: bool = True


def _validate_keys(doc: dict[str, Any], source: str, spec: dict[str, Any] = _KEYS, prefix: str = "") -> None:
    for key, value in doc.items():
        where = f"{prefix}{key}"
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
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "lists":
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


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


def _diagnoses(values: Any, where: str, source: str) -> tuple[str, ...]:
    """A coverage list: ICD-10-CM codes, normalised as claim diagnoses are (with or without the dot
    after the category; stored undotted) and held to the same format rule."""
    texts = _texts(values, where, source)
    codes = pl.DataFrame({"v": list(texts)}, schema={"v": pl.String()}).select(diagnosis_value(pl.col("v")))
    for given, code in zip(values, codes.to_series(), strict=True):
        if not re.fullmatch(DIAGNOSIS_RE, code):
            raise PolicyError(f"'{where}' lists '{given}', which is not an ICD-10-CM code (e.g. D80.0 or D800)",
                              source)
    return tuple(codes.to_series())


_HCPCS_CODE = re.compile(r"[A-Z0-9]{5}")


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
            raise PolicyError(f"caps.{code}: not a HCPCS/CPT code (5 letters or digits, e.g. \"96371\")", source)
        if not isinstance(cap, int) or isinstance(cap, bool) or cap < 0:
            raise PolicyError(f"caps.{code} must be a whole number >= 0", source)
        caps[key] = cap
    return caps


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
    return Policy(
        name=name,
        kind=kind,
        description=doc.get("description", ""),
        payers=_texts(doc.get("payers", []), "payers", source),
        caps=caps,
        jw_required_from=_date_or_none(doc.get("jw", {}).get("required_from", False), "jw.required_from", source),
        jz_required_from=_date_or_none(doc.get("jz", {}).get("required_from", False), "jz.required_from", source),
        jw_jz_exempt_pos=_codes(doc.get("jw_jz", {}).get("exempt_pos", []), "jw_jz.exempt_pos", source),
        kx_pos=_codes(doc.get("kx", {}).get("pos", []), "kx.pos", source),
        kx_accepted=_codes(doc.get("kx", {}).get("accepted", ["KX", "GA", "GZ"]), "kx.accepted", source),
        home_pos=_codes(cov.get("home_pos", ["12"]), "coverage.home_pos", source),
        coverage={s: _texts(cov.get(s, []), f"coverage.{s}", source) for s in ("home_iv", "home_sc", "other")},
        lists=lists,
        origin=source,
        ncci_em_pairs=doc.get("ncci", {}).get("em_pairs", True),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    """The TOML document of a policy file; every way it can fail is a one-line PolicyError."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PolicyError("no such policy file", str(path)) from None
    except UnicodeDecodeError as exc:
        raise PolicyError(f"cannot read policy file (not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at offset "
                          f"{exc.start})", str(path)) from None
    except OSError as exc:
        raise PolicyError(f"cannot read policy file ({exc.strerror or exc})", str(path)) from None
    if "\x00" in text:
        raise PolicyError("cannot read policy file (binary content, expected TOML text)", str(path))
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"invalid TOML ({exc})", str(path)) from None


def _builtin_doc(name: str) -> dict[str, Any]:
    text = resources.files("scrubber.policies").joinpath(f"{name.lower()}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@dataclass
class PolicySet:
    """The policies in force for a run, and which payer maps to which."""

    policies: dict[str, Policy]
    payer_map: dict[str, str]

    @classmethod
    def load(cls, files: list[str] | tuple[str, ...] = ()) -> PolicySet:
        docs = {name: _builtin_doc(name) for name in BUILTIN}
        policies = {name: _build(doc, "built-in") for name, doc in docs.items()}
        payer_map = {p: name for name, pol in policies.items() for p in pol.payers}
        for file in files:
            raw = _read_toml(Path(file))
            _validate_keys(raw, file)
            if "name" not in raw:
                raise PolicyError("a policy file needs a 'name'", file)
            base = raw.get("extends", FALLBACK).strip().upper()
            if base not in docs:
                raise PolicyError(f"extends unknown policy '{base}' (known: {', '.join(sorted(docs))})", file)
            merged = _merge(docs[base], {k: v for k, v in raw.items() if k != "extends"})
            if "payers" not in raw:
                merged["payers"] = []  # payers are never inherited: MEDICARE's payers stay MEDICARE's
            policy = _build(merged, file)
            docs[policy.name] = merged
            policies[policy.name] = policy
            payer_map.update({p: policy.name for p in policy.payers})
        return cls(policies=policies, payer_map=payer_map)

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
                "pol_kx_pos": [list(p.kx_pos) for p in pols],
                "pol_kx_accepted": [list(p.kx_accepted) for p in pols],
                "pol_home_pos": [list(p.home_pos) for p in pols],
            },
            schema={
                "policy": pl.String(),
                "pol_jw_from": pl.Date(),
                "pol_jz_from": pl.Date(),
                "pol_jwjz_exempt_pos": pl.List(pl.String()),
                "pol_kx_pos": pl.List(pl.String()),
                "pol_kx_accepted": pl.List(pl.String()),
                "pol_home_pos": pl.List(pl.String()),
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
                "payers": "all payers no other policy names" if p.name == FALLBACK else ", ".join(p.payers),
            }
            for p in self.policies.values()
        ]
