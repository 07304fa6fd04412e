"""Dosing: doses, routes, schedules, and the administrations they expand to.

A :class:`Dose` is one line of a regimen in the design-note grammar (dose string, route,
artery or site, start time, optional infusion time and repetition). A :class:`Regimen` is a
tuple of doses. ``Regimen.administrations(weight_kg)`` expands repeats into the list of
individual infusions the solver applies. NONMEM-style event tables (ID, TIME, AMT, CMT,
EVID, RATE, II, ADDL) are read and written by :mod:`mscsim.eventtable`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from mscsim.errors import MscsimError, unknown
from mscsim.units import DoseAmount, parse_dose, parse_time

ROUTES: tuple[str, ...] = ("iv", "intra_arterial", "intraportal", "intrathecal", "local")
#: artery -> (organ it feeds, tissue name when that tissue is the target)
ARTERIES: dict[str, tuple[str, str]] = {
    "hepatic": ("liver", "liver"),
    "pancreatic": ("gut", "pancreas"),
    "carotid": ("brain", "cns"),
    "renal": ("kidney", "kidney"),
    "coronary": ("heart", "heart"),
}
#: a bolus is given as a short push of this length (days) [design: 1 minute]
BOLUS_DAYS = 1.0 / 1440.0
#: routes whose dose the solver feeds through a named input of the model
INPUT_OF_ROUTE = {"iv": "in_iv", "intraportal": "in_portal", "intrathecal": "in_it",
                  "local": "in_local"}


def input_name(route: str, artery: str | None = None) -> str:
    """Name of the model input (cells/day) that carries a dose of this route."""
    if route == "intra_arterial":
        return f"in_ia_{artery}"
    return INPUT_OF_ROUTE[route]


def local_sites() -> list[str]:
    from mscsim.physiology import ORGANS, target_names

    return sorted(set(target_names()) | set(ORGANS) - {"lung"})


@dataclass(frozen=True)
class Dose:
    """One dose line: amount, route (+ artery/site), start, infusion time, repeats, product."""

    amount: DoseAmount
    route: str = "iv"
    at: float = 0.0                 # days
    artery: str | None = None
    site: str | None = None
    duration: float = 0.0           # days; 0 = bolus
    every: float | None = None      # days between repeats
    times: int = 1
    product: str = "msc"
    #: inline attributes overriding the named product's (``{cryopreserved: true}``), as pairs
    product_attrs: tuple[tuple[str, object], ...] = ()

    def __post_init__(self):
        if self.route not in ROUTES:
            raise unknown("route", self.route, ROUTES, field="route")
        if self.route == "intra_arterial":
            if self.artery is None:
                raise MscsimError(f"intra_arterial needs an artery; accepted: {', '.join(ARTERIES)}",
                                  field="artery")
            if self.artery not in ARTERIES:
                raise unknown("artery", self.artery, ARTERIES, field="artery")
        elif self.artery is not None:
            raise MscsimError(f"artery is only for route intra_arterial, not {self.route}", field="artery")
        if self.route == "local":
            if self.site is None:
                raise MscsimError(f"local needs a site; accepted: {', '.join(local_sites())}", field="site")
            if self.site not in local_sites():
                raise unknown("site", self.site, local_sites(), field="site")
        elif self.site is not None:
            raise MscsimError(f"site is only for route local, not {self.route}", field="site")
        if self.times < 1:
            raise MscsimError(f"times must be at least 1, got {self.times}", field="times")
        if self.times > 1 and not self.every:
            raise MscsimError("repeated dosing needs 'every' (e.g. every: 12 wk)", field="every")
        if self.every is not None and self.every <= 0:
            raise MscsimError("'every' must be a positive time", field="every")
        if self.duration < 0 or self.at < 0:
            raise MscsimError("times must not be negative", field="at")
        if self.every and self.duration > self.every:
            raise MscsimError("an infusion cannot last longer than the interval between doses",
                              field="infusion")
        from mscsim import parameters

        hard = parameters.value("hard_max_per_kg")
        limit = hard if self.amount.per_kg else hard * 300.0  # 300 kg: heavier than any patient
        if self.amount.cells > limit:
            raise MscsimError(f"{self.amount.text} is above the hard limit of {hard:.3g} cells/kg "
                              "(10x the lung load that killed mice); refusing it", field="dose")
        self.product_spec  # checks the name and any inline attributes  # noqa: B018

    @classmethod
    def parse(cls, dose: str, route: str = "iv", *, at: str | float = 0.0, artery=None, site=None,
              infusion: str | None = None, every: str | None = None, times: int = 1,
              product="msc") -> Dose:
        """Build a dose from the strings of the design-note grammar. ``product`` is a name or a
        mapping ``{name: uc-msc, cryopreserved: true}`` (docs/products.md)."""
        attrs: tuple = ()
        if isinstance(product, dict):
            from mscsim.products import resolve_product

            resolve_product(product)
            attrs = tuple((k, v) for k, v in product.items() if k != "name")
            product = product["name"]
        return cls(
            amount=parse_dose(dose),
            route=route,
            at=at if isinstance(at, float) and at == 0.0 else parse_time(at, field="at"),
            artery=artery, site=site,
            duration=parse_time(infusion, field="infusion") if infusion else 0.0,
            every=parse_time(every, field="every") if every else None,
            times=int(times),
            product=product, product_attrs=attrs,
        )

    @property
    def product_spec(self):
        """The :class:`~mscsim.products.Product` of this dose (table row + inline attributes)."""
        from mscsim.products import resolve_product

        if not self.product_attrs:
            return resolve_product(self.product)
        return resolve_product({"name": self.product, **dict(self.product_attrs)})

    @property
    def input(self) -> str:
        return input_name(self.route, self.artery)

    def start_times(self) -> list[float]:
        return [self.at + k * (self.every or 0.0) for k in range(self.times)]


@dataclass(frozen=True)
class Administration:
    """One infusion as the solver sees it: a constant rate into a model input."""

    start: float        # days
    duration: float     # days (> 0)
    cells: float        # total cells given
    input: str          # model input name
    route: str
    site: str | None
    product: str

    @property
    def end(self) -> float:
        return self.start + self.duration

    @property
    def rate(self) -> float:
        return self.cells / self.duration


@dataclass(frozen=True)
class Regimen:
    """An ordered collection of doses (empty = no MSCs: standard of care / sham)."""

    doses: tuple[Dose, ...] = field(default_factory=tuple)

    def __iter__(self):
        return iter(self.doses)

    def __len__(self):
        return len(self.doses)

    def __add__(self, other: Regimen) -> Regimen:
        return Regimen(self.doses + other.doses)

    def administrations(self, weight_kg: float) -> list[Administration]:
        out = []
        for d in self.doses:
            # dead cells at infusion are not MSCs to the model: only the live ones are given
            cells = d.amount.total_cells(weight_kg) * d.product_spec.viability
            dur = d.duration if d.duration > 0 else BOLUS_DAYS
            for t0 in d.start_times():
                out.append(Administration(t0, dur, cells, d.input, d.route, d.site, d.product))
        out.sort(key=lambda a: a.start)
        return out

    @property
    def product(self) -> str:
        """Name(s) of the regimen's product(s), ``+``-joined; checks that they can share one
        simulation (:func:`mscsim.products.regimen_product`)."""
        self.product_spec  # noqa: B018
        labels = list(dict.fromkeys(d.product_spec.label for d in self.doses))
        return " + ".join(labels) if labels else "msc"

    @property
    def product_spec(self):
        """The Product whose model inputs this regimen uses (docs/products.md)."""
        from mscsim.products import regimen_product

        return regimen_product([d.product_spec for d in self.doses])

    @property
    def local_site(self) -> str | None:
        sites = {d.site for d in self.doses if d.route == "local"}
        if len(sites) > 1:
            raise MscsimError(f"one local injection site per regimen, got {sorted(sites)}", field="site")
        return sites.pop() if sites else None

    def beyond(self, horizon_days: float) -> list[float]:
        """Start times (days) of the doses that begin after ``horizon_days`` (never given)."""
        return sorted(t for d in self.doses for t in d.start_times() if t > horizon_days + 1e-9)

    def horizon_warning(self, horizon_days: float, what: str = "the simulated time") -> str | None:
        """One line when doses fall after the horizon (they would be dropped silently; issue 21)."""
        late = self.beyond(horizon_days)
        if not late:
            return None
        total = sum(d.times for d in self.doses)
        days = ", ".join(f"{t:g}" for t in late[:5]) + (", ..." if len(late) > 5 else "")
        return (f"{len(late)} of {total} doses start after {what} ({horizon_days:g} d) and are not given "
                f"(day {days}); lengthen the simulation to include them")

    def with_times(self, shift: float) -> Regimen:
        return Regimen(tuple(replace(d, at=d.at + shift) for d in self.doses))
