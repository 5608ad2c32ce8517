"""Computer-algebra problem families: problems whose answers sympy computes from sampled parameters.

    >>> from generation.cas import generate
    >>> problems = list(generate(["two_body_decay"], n=3, seed=0))

Each family lives in a module of its own here and implements :class:`generation.cas.family.Family`; ``FAMILIES``
maps its name to an instance. :func:`generate` draws from the families round-robin, each with its own RNG seeded
by ``(seed, family name)``, and samples parameter sets without replacement, so a run is deterministic for a seed,
adding a family does not change what the others produce, and no id is emitted twice.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Iterable, Iterator

from curation.records.problem import Problem
from generation.cas.family import LEVELS, Family

__all__ = ["FAMILIES", "LEVELS", "CapacityError", "Family", "generate", "get_family", "resolve_families"]

# Module of each family, in the order `--list` shows them.
_MODULES = (
    "generation.cas.two_body_decay",
    "generation.cas.mass_dimension",
    "generation.cas.dirac_trace",
    "generation.cas.colour_factor",
    "generation.cas.symmetry_factor",
    "generation.cas.beta_coefficient",
    "generation.cas.rg_running",
    "generation.cas.dimreg_integral",
    "generation.cas.gauge_anomaly",
    "generation.cas.lorentz_representation",
    "generation.cas.feynman_parameter_integral",
    "generation.cas.qed_scattering",
    "generation.cas.cm_cross_section",
    "generation.cas.yukawa_scattering",
    "generation.cas.partial_wave_unitarity",
)


def _load() -> dict[str, Family]:
    families: dict[str, Family] = {}
    for module_name in _MODULES:
        family = importlib.import_module(module_name).FAMILY
        if family.name in families:
            raise RuntimeError(f"two families are named {family.name!r}")
        if family.level not in LEVELS:
            raise RuntimeError(f"family {family.name}: level {family.level!r} is not one of {LEVELS}")
        families[family.name] = family
    return families


FAMILIES: dict[str, Family] = _load()


class CapacityError(ValueError):
    """The chosen families cannot produce as many distinct problems as were asked for."""


def get_family(name: str) -> Family:
    """The family registered under ``name``; ``KeyError`` naming the valid ones otherwise."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown family {name!r}; choose from {', '.join(FAMILIES)}") from None


def resolve_families(names: Iterable[str] | str = "all", level: str | None = None) -> list[Family]:
    """The families named (``"all"`` for every one), restricted to ``level`` when given."""
    if isinstance(names, str):
        names = list(FAMILIES) if names == "all" else [n.strip() for n in names.split(",") if n.strip()]
    families = [get_family(name) for name in dict.fromkeys(names)]
    if level is not None:
        if level not in LEVELS:
            raise KeyError(f"unknown level {level!r}; choose from {', '.join(LEVELS)}")
        families = [f for f in families if f.level == level]
        if not families:
            raise KeyError(f"none of the chosen families is at level {level!r}")
    return families


def _quotas(families: list[Family], n: int) -> list[int]:
    """An even split of ``n`` over the families, with what a small family cannot take given to the others."""
    capacities = [f.capacity() for f in families]
    total = sum(capacities)
    if n > total:
        detail = ", ".join(f"{f.name} {c}" for f, c in zip(families, capacities, strict=True))
        raise CapacityError(
            f"asked for {n} problems but the chosen families can produce only {total} distinct ones ({detail}); "
            "lower --n or add families"
        )
    quotas = [0] * len(families)
    left = n
    open_ = [i for i, c in enumerate(capacities) if c > 0]
    while left:
        share, extra = divmod(left, len(open_))
        for rank, i in enumerate(open_):
            take = min(share + (1 if rank < extra else 0), capacities[i] - quotas[i])
            quotas[i] += take
            left -= take
        open_ = [i for i in open_ if quotas[i] < capacities[i]]
    return quotas


def _family_stream(family: Family, seed: int) -> Iterator[Problem]:
    # A string seed is hashed with SHA-512 by random.seed, so it is stable across processes and Python runs.
    rng = random.Random(f"{seed}:{family.name}")
    order = rng.sample(range(family.capacity()), family.capacity())
    for index in order:
        yield family.build(family.parameters_at(index))


def generate(
    families: Iterable[str] | str = "all", n: int = 100, seed: int = 0, level: str | None = None
) -> Iterator[Problem]:
    """``n`` distinct problems drawn round-robin from the families (deterministic for ``seed``).

    Raises ``CapacityError`` (before generating anything) when the families cannot produce ``n`` distinct
    problems, and ``KeyError`` for an unknown family or level.
    """
    chosen = resolve_families(families, level)
    quotas = _quotas(chosen, n)
    streams = [_family_stream(f, seed) for f in chosen]
    emitted = [0] * len(chosen)
    seen: set[str] = set()
    while any(e < q for e, q in zip(emitted, quotas, strict=True)):
        for i, stream in enumerate(streams):
            if emitted[i] >= quotas[i]:
                continue
            for problem in stream:
                # Two parameter sets can in principle render the same problem; the id decides.
                if problem.id not in seen:
                    seen.add(problem.id)
                    emitted[i] += 1
                    yield problem
                    break
            else:
                raise CapacityError(
                    f"family {chosen[i].name} ran out after {emitted[i]} distinct problems "
                    f"(of {quotas[i]} asked); lower --n"
                )
